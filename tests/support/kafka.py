"""Reading and writing real Kafka topics from tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from connectors.kafka_admin import client_options, ensure_topics
from streamapp.settings import Settings


async def read_topic(
    settings: Settings,
    topic: str,
    done: Callable[[list[bytes]], bool],
    timeout: float = 60,
    into: list[bytes] | None = None,
) -> list[bytes]:
    """All values of `topic` from the beginning, until `done(values)` holds or the timeout passes.
    `into` lets a concurrent task watch the values as they arrive."""
    consumer = AIOKafkaConsumer(
        topic, **client_options(settings), auto_offset_reset="earliest",
        enable_auto_commit=False, group_id=None, fetch_max_wait_ms=20,
    )
    await consumer.start()
    values: list[bytes] = [] if into is None else into
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not done(values):
            batch = await consumer.getmany(timeout_ms=50)
            values.extend(m.value for msgs in batch.values() for m in msgs)
    finally:
        await consumer.stop()
    return values


async def produce(settings: Settings, topic: str, items: list[tuple[bytes, bytes]]) -> None:
    """Send (key, value) pairs and wait for the broker's acks (creating the topic the way the app
    does: the broker never auto-creates topics)."""
    await ensure_topics(settings, {topic: settings.topic_partitions})
    producer = AIOKafkaProducer(**client_options(settings), acks="all")
    await producer.start()
    try:
        await asyncio.gather(*[await producer.send(topic, value=v, key=k) for k, v in items])
    finally:
        await producer.stop()


async def list_topics(bootstrap: str) -> list[str]:
    """The broker's topics (proves an admin round trip works)."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        return list(await admin.list_topics())
    finally:
        await admin.close()


async def caught_up(settings: Settings, topic: str) -> bool:
    """Whether the app's consumer group has committed every record of `topic` (Faust commits every
    few seconds): the stage reading it has handled all of it."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(**client_options(settings))
    consumer = AIOKafkaConsumer(**client_options(settings), group_id=None)
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(settings.streamapp_id)
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in range(settings.topic_partitions)])
        return all(end == 0 or (tp in committed and committed[tp].offset >= end) for tp, end in ends.items())
    finally:
        await consumer.stop()
        await admin.close()
