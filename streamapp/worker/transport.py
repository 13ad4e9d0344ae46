"""Faust's Kafka transport, with a shorter fetch wait for the worker's consumer and a producer
flush that does not give up.

Faust builds its aiokafka consumer with a fixed `fetch_max_wait_ms` of 1,500 ms. aiokafka keeps one
fetch request in flight per broker, and a partition whose records are still being handled is left
out of it: when that partition gets its next records, they wait for the request in flight, which
the broker holds until one of *its* partitions has data or the wait is over. On one broker at a
steady rate, that is where the records of the aggregator's input waited 1-3 s between stages
(measured: `e2e_bench.py` latency at half load, p99 3.2 s at 1,500 ms, 1.9 s at 100 ms). A shorter
wait only costs the broker more empty fetches when the worker is idle.

Table writes are queued in the producer's buffer and handed to the Kafka client by one task, one at
a time; every offset commit flushes the producer first. Faust's flush of that buffer waits 0.1 s for
each next record to go and returns as soon as one wait times out, with writes still queued (not
even in the client, whose own flush then misses them): with the event loop busy for longer than
that, or a full client batch waiting for the broker, a commit could cover records whose table
changes were not in Kafka yet. While the buffer keeps being refilled, it also kept waiting for
the newest writes (one commit stayed in flight 16 s, another 25 s, at half load). Here a flush
waits for exactly the writes queued before it was called, all of them, and fails if the buffer
stops first: a commit's offsets are picked before it flushes, and a record's table writes are
queued before it is acknowledged, so those are every write the commit covers.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiokafka
from faust.transport import producer as base
from faust.transport.drivers import aiokafka as driver
from faust.types.tuples import FutureMessage
from mode import Service

FETCH_MAX_WAIT_MS = 100


class ConsumerThread(driver.AIOKafkaConsumerThread):
    def _create_consumer(self, loop: asyncio.AbstractEventLoop) -> aiokafka.AIOKafkaConsumer:
        consumer = super()._create_consumer(loop)
        # aiokafka reads this when the consumer starts (it builds its fetcher then).
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


class Consumer(driver.Consumer):
    def _new_consumer_thread(self) -> driver.AIOKafkaConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class ProducerBuffer(base.ProducerBuffer):
    """Faust's buffer (one drainer, records handed to the client in order) that counts what was
    queued and what was handed over, so a flush knows when everything before it is in the client.
    The worker does not use Faust's threaded producer, whose queue `put` would bypass."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.queued = 0
        self.sent = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []  # (queued count at flush, its waiter)
        self._drained_to_the_end = False

    def put(self, fut: FutureMessage) -> None:
        super().put(fut)
        self.queued += 1

    async def flush(self) -> None:
        """Returns once every record queued before the call is in the client; raises if the buffer
        stops first (the records stay unsent: the caller must not commit)."""
        target = self.queued
        if self.sent >= target:
            return
        if self._drained_to_the_end or self.state != "running":
            raise RuntimeError(f"Cannot flush: producer buffer not running, {target - self.sent} records unsent")
        waiter: asyncio.Future[None] = self.loop.create_future()
        self._waiters.append((target, waiter))
        await waiter

    @Service.task
    async def _handle_pending(self) -> None:
        get_pending, send_pending = self.pending.get, self._send_pending
        try:
            while not self.should_stop:
                msg = await get_pending()
                await send_pending(msg)
                self.sent += 1
                self.message_sent.set()  # Faust's `wait_until_ebb` counts on it
                self._wake()
        finally:
            self._drained_to_the_end = True
            failed = RuntimeError(f"producer buffer stopped with {self.queued - self.sent} records unsent")
            for _, waiter in self._waiters:
                if not waiter.done():
                    waiter.set_exception(failed)
            self._waiters.clear()

    def _wake(self) -> None:
        """Wakes the flushes whose records are all in the client (their targets grow in order)."""
        waiters = self._waiters
        while waiters and waiters[0][0] <= self.sent:
            _, waiter = waiters.pop(0)
            if not waiter.done():
                waiter.set_result(None)


class Producer(driver.Producer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.buffer = ProducerBuffer(loop=self.loop, beacon=self.beacon)
        self.buffer.app = self.app


class Transport(driver.Transport):
    Consumer = Consumer
    Producer = Producer
