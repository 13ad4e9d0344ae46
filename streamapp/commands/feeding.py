"""Feeding the Redis stream `logs` from the command line (demo, simulate): lines written at their
scheduled time, pipelined per tick, with a progress bar."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator

import redis
from tqdm import tqdm

from streamapp.settings import Settings
from streamapp.shards import line_id


def feed(
    client: redis.Redis, settings: Settings, items: Iterator[tuple[float, str, str]], total: int,
    on_tick: Callable[[], None],
) -> dict[int, str]:
    """XADD (at, source, line) items in real time (each to its source's ingest shard, capped near
    LOGS_MAXLEN), calling `on_tick` while waiting; returns index -> line id."""
    ids: dict[int, str] = {}
    start = time.monotonic()
    with tqdm(total=total, unit="line", desc="feeding logs", file=sys.stderr, mininterval=1.0) as bar:
        pipe = client.pipeline(transaction=False)
        pending: list[tuple[int, int]] = []  # (index, shard)
        for i, (at, source, line) in enumerate(items):
            if (wait := at - (time.monotonic() - start)) > 0:
                for (k, shard), eid in zip(pending, pipe.execute(), strict=True):
                    ids[k] = line_id(eid.decode(), shard)
                bar.update(len(pending))
                pending = []
                on_tick()
                time.sleep(min(wait, 1.0))
            shard = settings.logs_shard_of(source)
            pipe.xadd(settings.logs_key(shard), {"source": source, "line": line}, maxlen=settings.logs_maxlen,
                      approximate=True)
            pending.append((i, shard))
        for (k, shard), eid in zip(pending, pipe.execute(), strict=True):
            ids[k] = line_id(eid.decode(), shard)
        bar.update(len(pending))
    return ids
