"""Outbound half of the stream connector layer: Kafka topics -> Redis streams of the contract.

A plain consumer with manual commits, so the order is explicit: read a batch, write it to Redis
(idempotently, one pipeline), then commit the offsets. A crash before the commit replays the batch;
the writer keeps each partition's highest offset written (a watermark) and drops what is at or below
it, so a replay adds nothing, however late. A partition whose watermark is past its end (the topic
was re-created) has it forgotten when assigned, so its new records are not taken for replays.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from mode import Service
from redis.exceptions import RedisError

from connectors.kafka_admin import client_options, ensure_topics
from connectors.redis_streams import Outgoing, StreamWriter, connect
from streamapp.records import DeadLetter, StreamRecord
from streamapp.settings import Settings
from streamapp.worker.topics import outbound_routes

log = logging.getLogger(__name__)


class OutboundBridge(Service):
    """Mirrors `metrics`, `issues_candidates`, `clusters_candidates`, `alerts` (and dead letters)
    from Kafka to the Redis streams of the same names; alerts also to `alert:<id>` hashes."""

    def __init__(self, settings: Settings, **kwargs) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.routes = outbound_routes(settings)
        self.consumer: AIOKafkaConsumer | None = None
        self.writer: StreamWriter | None = None
        self.written = 0

    async def on_start(self) -> None:
        s = self.settings
        await ensure_topics(s, dict.fromkeys(self.routes, s.topic_partitions))
        self.writer = StreamWriter(connect(s), s)
        self.consumer = AIOKafkaConsumer(
            **client_options(s), group_id=f"{s.streamapp_id}-redis-out",
            enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=s.outbound_batch_size,
        )
        self.consumer.subscribe(list(self.routes), listener=_Assigned(self))
        await self.consumer.start()

    async def on_shutdown(self) -> None:
        # After the pump stopped (mode runs on_shutdown last). No commit here: whatever was not
        # written and committed is simply read again.
        if self.consumer is not None:
            await self.consumer.stop()
        if self.writer is not None:
            await self.writer.client.aclose()

    @Service.task
    async def _pump(self) -> None:
        assert self.consumer is not None
        timeout_ms = int(self.settings.outbound_batch_within_sec * 1000)
        while not self.should_stop:
            batch = await self.consumer.getmany(timeout_ms=timeout_ms)
            if batch:
                await self._deliver(batch)

    async def _deliver(self, batch: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        items: list[Outgoing] = []
        for tp, messages in batch.items():
            stream, record_type, hash_prefix = self.routes[tp.topic]
            for msg in messages:  # in offset order: the partition's watermark moves forward
                record = self._decode(record_type, msg)
                at = (tp.topic, tp.partition, msg.offset)
                if isinstance(record, DeadLetter) and record_type is not DeadLetter:
                    items.append(Outgoing(self.settings.stream_deadletter, record, "", at))
                else:
                    items.append(Outgoing(stream, record, hash_prefix, at))
        delay = 0.5
        while True:
            try:
                assert self.writer is not None
                self.written += await self.writer.write_all(items)
                break
            except (RedisError, OSError) as exc:
                # Redis is down: hold the batch (uncommitted) and retry; never skip it.
                log.warning("outbound: %s; retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        await self._commit({tp: msgs[-1].offset + 1 for tp, msgs in batch.items()})

    def _decode(self, record_type: type[StreamRecord], msg: ConsumerRecord) -> StreamRecord:
        try:
            return record_type.loads(msg.value)
        except (ValueError, TypeError, KeyError) as exc:
            return DeadLetter.of("bridge_out", f"{msg.topic}/{msg.partition}/{msg.offset}", prefix="kafka",
                                 stream=msg.topic, reason=f"undecodable {record_type.__name__}: {exc}",
                                 payload=msg.value or b"", at=time.time())

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        assert self.consumer is not None
        assigned = self.consumer.assignment()
        owned = {tp: off for tp, off in offsets.items() if tp in assigned}
        try:
            if owned:
                await self.consumer.commit(owned)
        except (CommitFailedError, KafkaError) as exc:
            # Lost the partitions in a rebalance: the new owner re-reads them, and dedupe holds.
            log.info("outbound commit skipped (%s); records will be re-read and deduplicated", exc)

    async def forget_stale_watermarks(self, partitions: set[TopicPartition]) -> None:
        """Forget the watermark of a partition that ends before it (re-created or truncated since).
        Only partitions with a watermark are asked for their end (new topics may still elect leaders)."""
        assert self.consumer is not None and self.writer is not None
        parts = sorted(partitions)
        keys = [self.writer.watermark_key(tp.topic, tp.partition) for tp in parts]
        marks = {tp: (key, int(mark)) for tp, key, mark in zip(parts, keys, await self.writer.client.mget(keys),
                                                                strict=True) if mark is not None}
        if not marks:
            return
        for tp, end in (await self.consumer.end_offsets(list(marks))).items():
            key, mark = marks[tp]
            if mark >= end:
                log.warning("outbound: %s[%d] ends at %d, before the offset written last (%d): the topic was "
                            "re-created; its watermark is forgotten", tp.topic, tp.partition, end, mark)
                await self.writer.client.delete(key)


class _Assigned(ConsumerRebalanceListener):
    """Checks the watermarks of newly assigned partitions before any of their records is read."""

    def __init__(self, bridge: OutboundBridge) -> None:
        self.bridge = bridge

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        try:
            await self.bridge.forget_stale_watermarks(assigned)
        except (RedisError, OSError, KafkaError) as exc:
            log.warning("outbound: watermarks not checked (%s)", exc)

