"""How ingest and the pipeline scale out, each measured both ways in one run.

1. Bridge ceiling with `LOGS_SHARDS=2`: the lines (`--bridge-repeat` times over) from 8 sources,
   spread over both shards, in Redis; then one, and again two, `streamapp bridge in` processes;
   lines/s from the moment the shards have their leaders until every line is on Kafka (a bare
   consumer counts them). Prints `bridge_2_vs_1=<x>`.
2. Pipeline: the same lines with 1 and with 2 worker processes on the same topics
   (TOPIC_PARTITIONS partitions), written once the workers have joined; lines/s until every line
   is in a closed issue. Prints `scale_2_vs_1=<x>` last.

    .venv/bin/python bench/scale_bench.py [-n 100000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import redis
from harness import ClosedLines, KafkaLineCounter, cleanup, generate, namespace, rss_mb, services_up, wait, worker

from streamapp.processes import Proc, free_port, start_cli

INACTIVITY = 2.0


def run(lines: list[str], workers: int, work: Path, client: redis.Redis) -> tuple[float, list[float]]:
    env, s = namespace(work / f"w{workers}", ISSUE_INACTIVITY_SEC=str(INACTIVITY), ISSUE_MAX_DURATION_SEC="5",
                       SOURCE_FORMATS='{"*": "linux"}',
                       LLM_PROVIDER="none", ENABLE_SOURCES="false")
    procs = []
    for k in range(workers):
        home = work / f"w{workers}"
        wenv = {**env, "DATA_DIR": str(home / f"data{k}"), "CHROMA_PATH": str(home / f"chroma{k}"),
                "WEB_PORT": str(free_port())}
        procs.append(worker(wenv, work / f"w{workers}-{k}.log"))
    time.sleep(5)  # the group settles: every worker owns its partitions before the lines come
    stream = s.redis_key("logs")
    start = time.perf_counter()
    for i in range(0, len(lines), 2000):
        pipe = client.pipeline(transaction=False)
        for k, line in enumerate(lines[i : i + 2000]):
            pipe.xadd(stream, {"source": f"gen-{(i + k) % 8}", "line": line})
        pipe.execute()
    wait(ClosedLines(client, s), len(lines), 3600, f"{workers} worker(s)")
    seconds = time.perf_counter() - start - INACTIVITY
    rss = [rss_mb(p) for p in procs]
    for p in procs:
        p.terminate()
    cleanup(client, s)
    return len(lines) / seconds, rss


def bridges(lines: list[str], count: int, work: Path, client: redis.Redis) -> float:
    """Lines/s through `count` inbound bridge processes leading LOGS_SHARDS=2 shards: the lines are
    in Redis first, the bridges start, and the rate counts from the moment each shard has its
    leader and the bridges share them out (a bridge alone at first leads both) until the last
    line is on Kafka."""
    env, s = namespace(work / f"b{count}", LOGS_SHARDS="2", BRIDGE_LEASE_SEC="2", ENABLE_SOURCES="false")
    for i in range(0, len(lines), 2000):
        pipe = client.pipeline(transaction=False)
        for k, line in enumerate(lines[i : i + 2000]):
            source = f"gen-{(i + k) % 8}"
            pipe.xadd(s.logs_key(s.logs_shard_of(source)), {"source": source, "line": line})
        pipe.execute()
    counter = KafkaLineCounter(s)
    counter.start()
    leases = [s.redis_key("bridge:in:leader"), s.redis_key("bridge:in:leader:{1}")]
    procs: list[Proc] = [start_cli(["bridge", "in"], {**env, "BRIDGE_CONSUMER": f"bench-bridge-{k}"},
                                   work / f"b{count}-{k}.log") for k in range(count)]
    try:
        def leaders() -> int:
            held = client.mget(leases)
            return len(set(held)) if all(held) else 0

        wait(leaders, count, 120, f"{count} bridge(s) leading", *procs)
        start, before = time.perf_counter(), counter.count
        wait(lambda: counter.count, len(lines), 1800, f"{count} bridge(s)", *procs)
        seconds = time.perf_counter() - start
    finally:
        counter.stop = True
        for p in procs:
            p.terminate()
        cleanup(client, s)
    return (len(lines) - before) / seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=100_000)
    ap.add_argument("--bridge-repeat", type=int, default=5, help="the bridge ceiling takes the lines this many times")
    args = ap.parse_args()
    services_up()
    work = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    lines = generate(args.n, work / "lines.log")
    client = redis.Redis()
    many = lines * args.bridge_repeat  # the bridges are fast: more lines, for a long enough window
    bridge_one = bridges(many, 1, work, client)
    bridge_two = bridges(many, 2, work, client)
    one, rss1 = run(lines, 1, work, client)
    two, rss2 = run(lines, 2, work, client)
    print(f"lines: {args.n} from 8 sources (generated Linux syslog)")
    print(f"bridge ceiling, LOGS_SHARDS=2, {len(many):,} lines: 1 bridge process {bridge_one:,.0f} lines/s, "
          f"2 bridge processes {bridge_two:,.0f} lines/s")
    print(f"bridge_2_vs_1={bridge_two / bridge_one:.3f}")
    print(f"1 worker:  {one:,.0f} lines/s to issue candidates (RSS {rss1[0]:.0f} MiB)")
    print(f"2 workers: {two:,.0f} lines/s to issue candidates (RSS {', '.join(f'{r:.0f}' for r in rss2)} MiB)")
    print(f"scale_2_vs_1={two / one:.3f}")


if __name__ == "__main__":
    main()
