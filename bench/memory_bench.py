"""Memory stays flat: one worker (offline classifier) takes N generated lines, fed as fast as it
closes them (at most `--ahead` lines waiting in Redis, which the bridge trims as it goes); the RSS
of the worker and its vector-store process is read once 100,000 lines are in closed issues and
again after all N, with the backlog the worker holds of the two agents whose records are one item
each (the enricher's candidates, clustering's closed issues). Prints both and
`rss_1m_vs_100k=<RSS at N / RSS at 100k>` last (the target is within 10%, i.e. at most 1.10).

    .venv/bin/python bench/memory_bench.py [-n 1000000] [--ahead 100000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import redis
from harness import ClosedLines, backlog, cleanup, generate, namespace, rss_mb, rss_split_mb, services_up, wait, worker

INACTIVITY = 2.0
FIRST = 100_000
CHUNK = 20_000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=1_000_000)
    ap.add_argument("--ahead", type=int, default=100_000, help="most lines fed but not yet in closed issues")
    args = ap.parse_args()
    n = args.n
    services_up()
    work = Path(tempfile.mkdtemp(prefix="memory-bench-"))
    lines = generate(n, work / "lines.log")
    client = redis.Redis()
    env, s = namespace(work / "pipeline", ISSUE_INACTIVITY_SEC=str(INACTIVITY), ISSUE_MAX_DURATION_SEC="5",
                       SOURCE_FORMATS='{"*": "linux"}', LLM_PROVIDER="none", ENABLE_SOURCES="false",
                       BRIDGE_TRIM_RETAIN_SEC="0", BRIDGE_TRIM_INTERVAL_SEC="2")
    w = worker(env, work / "worker.log")
    closed = ClosedLines(client, s)
    rss = {"start": rss_mb(w)}
    split: dict[str, tuple[float, float]] = {}
    behind: dict[str, dict[str, int]] = {}
    start = time.perf_counter()
    fed = 0
    try:
        while fed < n:
            done = closed()
            if done >= FIRST and "100k" not in rss:
                rss["100k"], split["100k"] = rss_mb(w), rss_split_mb(w)
                behind["100k"] = backlog(s)
            if fed - done >= args.ahead:
                if w.popen.poll() is not None:
                    raise SystemExit(f"worker exited ({w.popen.returncode}):\n{w.output()[-3000:]}")
                time.sleep(0.5)
                continue
            pipe = client.pipeline(transaction=False)
            for k, line in enumerate(lines[fed : fed + CHUNK]):
                pipe.xadd(s.redis_key("logs"), {"source": f"gen-{(fed + k) % 8}", "line": line})
            pipe.execute()
            fed = min(n, fed + CHUNK)
        wait(closed, FIRST, 3600, "first 100k", w)
        if "100k" not in rss:
            rss["100k"], split["100k"] = rss_mb(w), rss_split_mb(w)
            behind["100k"] = backlog(s)
        wait(closed, n, 7200, "all lines", w)
        rss["end"], split["end"] = rss_mb(w), rss_split_mb(w)
        behind["end"] = backlog(s)
        seconds = time.perf_counter() - start
    finally:
        w.terminate()
        cleanup(client, s)
    print(f"lines: {n} (generated Linux syslog), one worker, offline classifier, {n / seconds:,.0f} lines/s")
    print(f"worker RSS (with its vector-store process): {rss['start']:.0f} MiB at start, "
          f"{rss['100k']:.0f} MiB after {FIRST:,} lines, {rss['end']:.0f} MiB after {n:,} lines")
    for at, (own, children) in split.items():
        print(f"  at {at}: worker process {own:.0f} MiB, vector-store process {children:.0f} MiB; not yet taken by "
              f"the enricher {behind[at]['issues_candidates']} candidates, by clustering "
              f"{behind[at]['closed_issues']} closed issues")
    print(f"rss_1m_vs_100k={rss['end'] / rss['100k']:.3f}")


if __name__ == "__main__":
    main()
