"""Pipeline throughput on one worker, against the bare bridge ceiling, in one run.

1. Bridge ceiling: N generated lines in Redis `logs`, a worker with every stage off and a no-op
   agent that only counts (Redis -> inbound bridge -> Kafka -> agent): lines/s.
2. Pipeline: the same N lines through the real worker: lines/s to parsed events (lines the
   consumer handed to the aggregator, counted on the `issue_events` topic) and to issue
   candidates (every line in a closed issue; the inactivity window is subtracted).
Both start with the lines already in Redis and time from the worker's "Ready" to the last line.

    .venv/bin/python bench/pipeline_bench.py [-n 50000]

Prints the figures, the worker's RSS at start and end, and `ratio_vs_bridge=<x>` last
(pipeline lines/s to candidates / bridge lines/s).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import redis
from harness import (
    ClosedLines,
    ParsedCounter,
    cleanup,
    generate,
    namespace,
    rss_mb,
    services_up,
    wait,
    worker,
    xadd_all,
)

INACTIVITY = 2.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=50_000)
    args = ap.parse_args()
    n = args.n
    services_up()
    work = Path(tempfile.mkdtemp(prefix="pipeline-bench-"))
    lines = generate(n, work / "lines.log")
    client = redis.Redis()

    off = {"ENABLE_CONSUMER": "false", "ENABLE_ISSUES_AGGREGATOR": "false", "ENABLE_CLUSTERING": "false"}
    env, s = namespace(work / "bridge", **off)
    xadd_all(client, s.redis_key("logs"), lines, "bench.log")
    w = worker(env, work / "bridge.log", app="bench.noop_app")
    bridge_sec = wait(lambda: int(client.get(s.redis_key("bench:noop:count")) or 0), n, 900, "bridge")
    w.terminate()
    cleanup(client, s)

    env, s = namespace(work / "pipeline", ISSUE_INACTIVITY_SEC=str(INACTIVITY), ISSUE_MAX_DURATION_SEC="5",
                       SOURCE_FORMATS='{"*": "linux"}')
    xadd_all(client, s.redis_key("logs"), lines, "bench.log")
    w = worker(env, work / "pipeline.log")
    counter = ParsedCounter(s)  # after the worker made the topics; it reads from the start
    counter.start()
    rss_start = rss_mb(w)
    parsed_sec = wait(lambda: counter.count, n, 1800, "parsed")
    closed_sec = wait(ClosedLines(client, s), n, 1800, "candidates") + parsed_sec
    rss_end = rss_mb(w)
    w.terminate()
    counter.stop = True
    cleanup(client, s)

    bridge = n / bridge_sec
    parsed = n / parsed_sec
    candidates = n / max(closed_sec - INACTIVITY, 1e-3)
    print(f"lines: {n} (generated Linux syslog)")
    print(f"bridge ceiling (Redis -> Kafka -> no-op agent): {bridge:,.0f} lines/s ({bridge_sec:.1f}s)")
    print(f"pipeline to parsed events: {parsed:,.0f} lines/s ({parsed_sec:.1f}s)")
    print(f"pipeline to issue candidates: {candidates:,.0f} lines/s ({closed_sec:.1f}s incl. {INACTIVITY:.0f}s window)")
    print(f"worker RSS: {rss_start:.0f} MiB at start, {rss_end:.0f} MiB at end")
    print(f"ratio_vs_bridge={candidates / bridge:.3f}")


if __name__ == "__main__":
    main()
