"""The worker's Kafka consumer waits briefly for records, and its producer's flush waits for every
table write queued before it (see `streamapp.worker.transport`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from faust.types.tuples import FutureMessage, PendingMessage

from streamapp.settings import Settings
from streamapp.worker.app import create_app
from streamapp.worker.transport import FETCH_MAX_WAIT_MS, ProducerBuffer, Transport


async def test_the_workers_consumer_uses_the_short_fetch_wait(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    assert isinstance(app.transport, Transport)
    consumer = app.consumer._thread._create_consumer(asyncio.get_running_loop())  # not started: no broker needed
    try:
        assert consumer._fetch_max_wait_ms == FETCH_MAX_WAIT_MS < 1500  # Faust's own: 1,500 ms
    finally:
        await consumer.stop()


class SlowSends(ProducerBuffer):
    """Hands each record to the client only after `delay` (a busy loop, a full client batch), or
    fails at the record numbered `fail_at`; records what it handed over, in order."""

    delay = 0.25
    fail_at = -1

    def __post_init__(self) -> None:
        super().__post_init__()
        self.handed: list[FutureMessage] = []

    async def _send_pending(self, fut: FutureMessage) -> None:
        await asyncio.sleep(self.delay)
        if len(self.handed) == self.fail_at:
            raise ConnectionError("broker gone")
        self.handed.append(fut)


def queue(buffer: SlowSends, numbers: range) -> list[FutureMessage]:
    """Table writes queued in the buffer, as `Table.__setitem__` queues them."""
    futs = [FutureMessage(PendingMessage(None, str(n).encode(), b"v", None, None, None, None, None, None))
            for n in numbers]
    for fut in futs:
        buffer.put(fut)
    return futs


async def started(tmp_path: Path, **attrs: object) -> SlowSends:
    buffer = SlowSends(loop=asyncio.get_running_loop())
    buffer.app = create_app(Settings(data_dir=tmp_path))
    for name, value in attrs.items():
        setattr(buffer, name, value)
    await buffer.start()
    return buffer


async def test_a_flush_returns_only_once_every_record_queued_before_it_is_in_the_client(tmp_path: Path) -> None:
    # Faust's own flush gives up after 0.1 s without a record sent, with records still queued: an
    # offset commit after it could cover table writes that never reached Kafka.
    buffer = await started(tmp_path)
    try:
        queued = queue(buffer, range(3))
        await buffer.flush()
        assert buffer.handed == queued
        assert buffer.size == 0
    finally:
        await buffer.stop()


async def test_a_flush_does_not_wait_for_records_queued_after_it(tmp_path: Path) -> None:
    buffer = await started(tmp_path)
    try:
        first = queue(buffer, range(2))
        flushing = asyncio.ensure_future(buffer.flush())
        await asyncio.sleep(0)
        later = queue(buffer, range(2, 5))
        await flushing
        assert buffer.handed == first  # the third is still on its way: a commit need not wait for it
        await buffer.flush()
        assert buffer.handed == first + later
    finally:
        await buffer.stop()


async def test_a_flush_fails_when_the_buffer_stops_with_its_records_unsent(tmp_path: Path) -> None:
    buffer = await started(tmp_path, fail_at=1)
    queue(buffer, range(3))
    with pytest.raises(RuntimeError, match="2 records unsent"):
        await buffer.flush()
    assert len(buffer.handed) == 1
    with pytest.raises(RuntimeError, match="not running"):
        await buffer.flush()


def test_the_workers_producer_uses_that_buffer(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    assert isinstance(app.producer.buffer, ProducerBuffer)
