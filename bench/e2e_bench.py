"""End-to-end throughput and latency on one worker, with the offline classifier, against the
domain code alone and the client libraries alone, all in one run (the machine is shared: only
figures measured side by side compare).

1. Raw client ceiling: N lines read from Redis (XRANGE pages), produced as batch records, consumed
   by a bare Kafka consumer: what the libraries move on this machine without the app.
2. Bridge ceiling: the same N lines through Redis -> inbound bridge -> Kafka -> a no-op agent.
3. Offline: the same N lines through `streamapp classify`'s code (parse, mine, classify), in-process.
4. Sustained maximum: the N lines pre-loaded in Redis `logs`, then the real worker: lines/s until
   every line is in a closed issue (issue candidates) and until the alert stream settles.
5. Latency at 50% of that maximum: fresh lines fed at half the sustained rate for `--latency-sec`;
   for every candidate, (time it reached Redis) - (XADD time of its last line) - inactivity window,
   reported as p50/p99, and split by hop from the Kafka records' timestamps along the way.
RSS of the worker is read at its start and end. Prints `bridge_vs_raw=<bridge / raw client>` and,
last, `ratio_vs_offline=<sustained lines/s to candidates / offline lines/s>`.

    .venv/bin/python bench/e2e_bench.py [-n 200000] [--latency-sec 30] [--profile artifacts/e2e]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import redis
from harness import (
    ClosedLines,
    Hops,
    changelog_records,
    cleanup,
    generate,
    namespace,
    offline_seconds,
    raw_client_seconds,
    rss_mb,
    services_up,
    wait,
    wait_idle,
    worker,
    xadd_all,
)
from profiling import Profile

from streamapp.records import IssueCandidate
from streamapp.settings import Settings

INACTIVITY = 2.0
# A backlog keeps busy keys from ever going quiet: their issues close at the maximum duration, so a
# bench-sized one keeps candidates flowing (production's default is 10 minutes).
MAX_DURATION = "5"
BASE = {"ISSUE_INACTIVITY_SEC": str(INACTIVITY), "ISSUE_MAX_DURATION_SEC": MAX_DURATION,
        "SOURCE_FORMATS": '{"*": "linux"}', "LLM_PROVIDER": "none"}


def settle(client: redis.Redis, key: str, quiet: float = 5.0, timeout: float = 600) -> float:
    """Seconds until the stream stops growing for `quiet` seconds (that quiet time excluded)."""
    start = last_change = time.perf_counter()
    last = -1
    while time.perf_counter() - last_change < quiet:
        n = client.xlen(key)
        if n != last:
            last, last_change = n, time.perf_counter()
        if time.perf_counter() - start > timeout:
            break
        time.sleep(0.2)
    return last_change - start


def feed_at(client: redis.Redis, stream: str, lines: list[str], rate: float) -> None:
    """XADD at a steady rate (pipelined in 100 ms slices)."""
    start = time.perf_counter()
    sent = 0
    while sent < len(lines):
        due = min(len(lines), int((time.perf_counter() - start) * rate) + 1)
        if due > sent:
            pipe = client.pipeline(transaction=False)
            for line in lines[sent:due]:
                pipe.xadd(stream, {"source": f"gen-{sent % 8}", "line": line})
            pipe.execute()
            sent = due
        time.sleep(0.1)


def latencies(
    client: redis.Redis, s: Settings, after_ms: int, hops: Hops
) -> tuple[list[float], list[float], list[list[float]]]:
    """Per candidate created after `after_ms`: seconds from its last line's XADD to its arrival
    (inactivity window excluded), the part of it before the consumer read that line, and (where
    `hops` saw them all) its hops, the window taken out of the one it falls in."""
    out, ingest, by_hop = [], [], []
    for eid, fields in client.xrange(s.redis_key("issues_candidates"), min=f"{after_ms}-0"):
        cand = IssueCandidate.from_redis(fields)
        last = max(cand.logs, key=lambda item: int(item["id"].split("-")[0]))
        last_line_ms = int(last["id"].split("-")[0])
        arrived_ms = int(eid.decode().split("-")[0])
        out.append(max(0.0, (arrived_ms - last_line_ms) / 1000 - INACTIVITY))
        ingest.append(max(0.0, cand.last_ts - last_line_ms / 1000))
        if (seconds := hops.hops(last["id"], cand.id, arrived_ms)) is not None:
            seconds[2] -= INACTIVITY
            by_hop.append(seconds)
    return out, ingest, by_hop


HOPS = ("XADD -> bridge's record", "-> consumer's record", "-> sweep's close (window excluded)",
        "-> candidate's record", "-> Redis")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=200_000)
    ap.add_argument("--latency-sec", type=float, default=30.0)
    ap.add_argument("--profile", type=Path, help="py-spy the worker while it drains the backlog: <PROFILE>.svg/.txt")
    args = ap.parse_args()
    n = args.n
    services_up()
    work = Path(tempfile.mkdtemp(prefix="e2e-bench-"))
    lines = generate(n, work / "lines.log")
    fresh = generate(int(args.latency_sec * 5000) + 1000, work / "fresh.log", seed=2)
    client = redis.Redis()

    off = {"ENABLE_CONSUMER": "false", "ENABLE_ISSUES_AGGREGATOR": "false", "ENABLE_CLUSTERING": "false",
           "ENABLE_ENRICHER": "false", "ENABLE_CLUSTER_ENRICHER": "false", "ENABLE_SOURCES": "false"}
    env, s = namespace(work / "bridge", **off)
    xadd_all(client, s.redis_key("raw"), lines, "bench.log")
    raw_sec = raw_client_seconds(s, s.redis_key("raw"), n)
    xadd_all(client, s.redis_key("logs"), lines, "bench.log")
    w = worker(env, work / "bridge.log", app="bench.noop_app")
    bridge_sec = wait(lambda: int(client.get(s.redis_key("bench:noop:count")) or 0), n, 1800, "bridge", w)
    w.terminate()
    cleanup(client, s)

    offline_sec = offline_seconds(work / "lines.log", work)

    env, s = namespace(work / "pipeline", **BASE, ENABLE_SOURCES="false")
    xadd_all(client, s.redis_key("logs"), lines, "bench.log")
    w = worker(env, work / "pipeline.log")
    rss_start = rss_mb(w)
    profile = Profile(w.popen.pid, args.profile) if args.profile else None
    closed = ClosedLines(client, s)
    closed_sec = wait(closed, n, 3600, "candidates", w)
    profiled = profile.stop() if profile else ""
    alerts_sec = closed_sec + settle(client, s.redis_key("alerts"))
    sustained = n / max(closed_sec - INACTIVITY, 1e-3)

    wait_idle(s)  # clustering and enrichment of the backlog finish before latency is measured
    rate = sustained / 2
    started_ms = int(time.time() * 1000)
    fed = fresh[: int(rate * args.latency_sec)]
    hops = Hops(s)
    hops.start()
    hops.ready.wait(60)
    written = changelog_records(s)
    feed_start = time.perf_counter()
    feed_at(client, s.redis_key("logs"), fed, rate)
    feed_sec = time.perf_counter() - feed_start
    written = {t: n - written[t] for t, n in changelog_records(s).items()}
    wait(closed, n + len(fed), 600, "latency phase", w)
    time.sleep(1)  # the last records reach the hop reader
    hops.stop = True
    hops.join(10)
    lat, ingest, by_hop = latencies(client, s, started_ms, hops)
    lat.sort()
    ingest.sort()
    rss_end = rss_mb(w)
    alerts = client.xlen(s.redis_key("alerts"))
    w.terminate()
    cleanup(client, s)

    raw, bridge, offline = n / raw_sec, n / bridge_sec, n / offline_sec
    print(f"lines: {n} (generated Linux syslog), one worker, offline classifier")
    print(f"raw client ceiling (XRANGE -> batched produce -> bare consumer, no app): {raw:,.0f} lines/s")
    print(f"bridge ceiling (Redis -> inbound bridge -> Kafka -> no-op agent): {bridge:,.0f} lines/s")
    print(f"offline (parse, mine, classify in one process, as `streamapp classify`): {offline:,.0f} lines/s")
    print(f"sustained to issue candidates: {sustained:,.0f} lines/s ({closed_sec:.0f}s incl. {INACTIVITY:.0f}s window)")
    to_alerts = n / max(alerts_sec, 1e-3)
    print(f"sustained to alerts: {to_alerts:,.0f} lines/s ({alerts} alerts settled after {alerts_sec:.0f}s)")
    if lat:
        p50, p99 = statistics.median(lat), lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        print(f"latency XADD -> candidate at {rate:,.0f} lines/s (50% of max), {len(lat)} candidates: "
              f"p50 {p50:.2f}s, p99 {p99:.2f}s (inactivity window excluded); of which XADD -> consumer: "
              f"p50 {statistics.median(ingest):.2f}s, p99 {ingest[int(len(ingest) * 0.99)]:.2f}s")
    if by_hop:
        columns = zip(HOPS, zip(*by_hop, strict=True), strict=True)
        print(f"  by hop (Kafka record timestamps; {len(by_hop)} candidates closed by a sweep), p50/p99 s: "
              + ", ".join(f"{name} {statistics.median(col):.2f}/{pct(list(col), 0.99):.2f}" for name, col in columns))
    print("  table changelog records/s while fed: "
          + ", ".join(f"{table} {count / feed_sec:,.0f}" for table, count in written.items()))
    print(f"worker RSS (with its vector-store process): {rss_start:.0f} MiB at start, {rss_end:.0f} MiB at end")
    if profiled:
        print(f"profile of the backlog phase ({args.profile}.svg):\n{profiled}")
    print(f"ratio_vs_bridge={sustained / bridge:.3f}")
    print(f"bridge_vs_raw={bridge / raw:.3f}")
    print(f"ratio_vs_offline={sustained / offline:.3f}")


if __name__ == "__main__":
    main()
