"""Throughput with 1 and with 2 worker processes on the same topics (TOPIC_PARTITIONS partitions):
N generated lines from 8 sources (so they spread over the partitions) written to Redis `logs` once
the workers have joined; lines/s until every line is in a closed issue. Prints both and `scale_2_vs_1=<x>` last.

    .venv/bin/python bench/scale_bench.py [-n 100000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import redis
from harness import cleanup, closed_lines, generate, namespace, rss_mb, services_up, wait, worker

from streamapp.processes import free_port

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
    wait(lambda: closed_lines(client, s), len(lines), 3600, f"{workers} worker(s)")
    seconds = time.perf_counter() - start - INACTIVITY
    rss = [rss_mb(p) for p in procs]
    for p in procs:
        p.terminate()
    cleanup(client, s)
    return len(lines) / seconds, rss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=100_000)
    args = ap.parse_args()
    services_up()
    work = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    lines = generate(args.n, work / "lines.log")
    client = redis.Redis()
    one, rss1 = run(lines, 1, work, client)
    two, rss2 = run(lines, 2, work, client)
    print(f"lines: {args.n} from 8 sources (generated Linux syslog)")
    print(f"1 worker:  {one:,.0f} lines/s to issue candidates (RSS {rss1[0]:.0f} MiB)")
    print(f"2 workers: {two:,.0f} lines/s to issue candidates (RSS {', '.join(f'{r:.0f}' for r in rss2)} MiB)")
    print(f"scale_2_vs_1={two / one:.3f}")


if __name__ == "__main__":
    main()
