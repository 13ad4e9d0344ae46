"""Memory of the outbound bridge's dedupe: what its marks hold in Redis as records stream through.

Two writers in one run, the same metric records at the same rate into streams of their own:
`bounded` is the bridge's writer (an offset watermark per partition, id marks for a short TTL);
`per-id` marks every id for 7 days, as the bridge did before. Every second the live dedupe keys of
each are counted: the bounded one levels off at rate x TTL (plus one watermark per partition), the
per-id one grows with every record. The run uses a short TTL so the level shows within seconds;
the last lines project both to the production defaults from the measured bytes per key.

    .venv/bin/python bench/outbound_dedupe_bench.py [--rate 2000] [--seconds 20] [--ttl 5]

Last line: `marks_per_second_of_ttl=<live bounded marks at the end / (rate x ttl)>` (about 1: the bound).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import redis.asyncio as aioredis
from harness import namespace, services_up

from connectors.redis_streams import Outgoing, StreamWriter
from streamapp.records import Metric
from streamapp.settings import Settings

PARTITIONS = 4
OLD_TTL = 7 * 86400
PROJECTED_RATE = 1000  # records/s: the example of a metrics stream


async def live(client: aioredis.Redis, pattern: str) -> int:
    return sum([1 async for _ in client.scan_iter(match=pattern, count=5000)])


async def bytes_per_key(client: aioredis.Redis, pattern: str, sample: int = 200) -> float:
    sizes = []
    async for key in client.scan_iter(match=pattern, count=5000):
        sizes.append(await client.memory_usage(key, samples=0) or 0)
        if len(sizes) >= sample:
            break
    return sum(sizes) / max(len(sizes), 1)


async def run(rate: int, seconds: int, ttl: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="dedupe-bench-"))
    _, base = namespace(work)
    bounded: Settings = base.model_copy(update={"stream_prefix": base.stream_prefix + "bounded.",
                                                "outbound_dedupe_ttl_sec": ttl})
    per_id: Settings = base.model_copy(update={"stream_prefix": base.stream_prefix + "perid.",
                                               "outbound_dedupe_ttl_sec": OLD_TTL})
    client = aioredis.from_url(base.redis_url)
    writers = {"bounded": StreamWriter(client, bounded), "per-id": StreamWriter(client, per_id)}
    marks = {"bounded": bounded.redis_key("dedupe:*"), "per-id": per_id.redis_key("dedupe:*")}
    watermarks = bounded.redis_key("outbound:offset:*")
    print(f"rate {rate} records/s for {seconds} s, {PARTITIONS} partitions, "
          f"bounded TTL {ttl} s, per-id TTL {OLD_TTL} s")
    print(f"{'t (s)':>6} {'written':>9} {'bounded marks':>14} {'watermarks':>11} {'per-id marks':>13}")
    offsets = [0] * PARTITIONS
    written = 0
    start = time.monotonic()
    try:
        for second in range(1, seconds + 1):
            batch = []
            for i in range(rate):
                p = (written + i) % PARTITIONS
                rec = Metric(id=f"m-{written + i}", name="system.cpu.utilization", value=0.5,
                             resource={"host.name": f"h{p}"}, time=time.time())
                batch.append((rec, ("metrics", p, offsets[p])))
                offsets[p] += 1
            for i in range(0, rate, 500):  # the bridge's batch size
                part = batch[i : i + 500]
                await writers["bounded"].write_all([Outgoing("metrics", rec, "", at) for rec, at in part])
                await writers["per-id"].write("metrics", [rec for rec, _ in part])
            written += rate
            if (pause := start + second - time.monotonic()) > 0:
                await asyncio.sleep(pause)
            counts = {name: await live(client, pattern) for name, pattern in marks.items()}
            print(f"{second:>6} {written:>9} {counts['bounded']:>14} {await live(client, watermarks):>11} "
                  f"{counts['per-id']:>13}")
        mark_bytes = await bytes_per_key(client, marks["bounded"])
        end_marks = counts["bounded"]
        print(f"bytes per id mark (MEMORY USAGE): {mark_bytes:.0f}; watermark keys: {PARTITIONS} (one per partition)")
        default = Settings().outbound_dedupe_ttl_sec
        for label, keep in ((f"bounded (default {default} s)", default), ("per-id (7 days)", OLD_TTL)):
            n = PROJECTED_RATE * keep
            print(f"at {PROJECTED_RATE} records/s, {label}: {n:,} live marks, {n * mark_bytes / 2**20:,.0f} MiB")
        print(f"marks_per_second_of_ttl={end_marks / (rate * ttl):.2f}")
    finally:
        for settings in (bounded, per_id):
            keys = [k async for k in client.scan_iter(match=f"{settings.stream_prefix}*", count=5000)]
            for i in range(0, len(keys), 1000):
                await client.delete(*keys[i : i + 1000])
        await client.aclose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=int, default=2000)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--ttl", type=int, default=5)
    args = ap.parse_args()
    services_up()
    asyncio.run(run(args.rate, args.seconds, args.ttl))


if __name__ == "__main__":
    main()
