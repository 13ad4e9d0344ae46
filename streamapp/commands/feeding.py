"""Feeding the Redis stream `logs` from the command line (demo, simulate): lines written at their
scheduled time, pipelined per tick, with a progress bar."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator

import redis
from tqdm import tqdm


def feed(
    client: redis.Redis, stream: str, items: Iterator[tuple[float, str, str]], total: int, on_tick: Callable[[], None],
    maxlen: int,
) -> dict[int, str]:
    """XADD (at, source, line) items in real time (`stream` capped near `maxlen`), calling `on_tick`
    while waiting; returns index -> line id."""
    ids: dict[int, str] = {}
    start = time.monotonic()
    with tqdm(total=total, unit="line", desc="feeding logs", file=sys.stderr, mininterval=1.0) as bar:
        pipe = client.pipeline(transaction=False)
        pending: list[int] = []
        for i, (at, source, line) in enumerate(items):
            if (wait := at - (time.monotonic() - start)) > 0:
                for k, eid in zip(pending, pipe.execute(), strict=True):
                    ids[k] = eid.decode()
                bar.update(len(pending))
                pending = []
                on_tick()
                time.sleep(min(wait, 1.0))
            pipe.xadd(stream, {"source": source, "line": line}, maxlen=maxlen, approximate=True)
            pending.append(i)
        for k, eid in zip(pending, pipe.execute(), strict=True):
            ids[k] = eid.decode()
        bar.update(len(pending))
    return ids
