"""Agents that take one record at a time and must never stop on one: a record the stage cannot
process goes to the dead-letter stream with the reason (and the error is logged), then the stream
moves on."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import faust

from streamapp.deps import Deps
from streamapp.records import DeadLetter

log = logging.getLogger(__name__)


async def park(deps: Deps, stream: str, record_id: str, payload: bytes, exc: Exception) -> None:
    """A record a stage could not process goes to the dead-letter stream with the reason."""
    letter = DeadLetter(
        id=f"{stream}:{record_id}", reason=f"{type(exc).__name__}: {exc}"[:500], stream=stream,
        original_id=record_id, payload=payload[:2048].decode("utf-8", "replace"), failed_at=deps.clock.now(),
    )
    await deps.topics.deadletter.send(key=letter.id, value=letter)


def guarded_agent(deps: Deps, topic: faust.TopicT, name: str, handle: Callable[[Any], Awaitable[object]]) -> None:
    """Register agent `name` on `topic` calling `handle(record)`; failures are parked."""

    @deps.app.agent(topic, name=name)
    async def run(stream):  # type: ignore[no-untyped-def]
        async for record in stream:
            try:
                await handle(record)
            except Exception as exc:  # one bad record must not stop the stage
                log.exception("%s: record %s failed", name, getattr(record, "id", "?"))
                await park(deps, topic.get_topic_name(), getattr(record, "id", ""), record.dumps(), exc)
