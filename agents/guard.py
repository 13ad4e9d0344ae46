"""The one guard every agent and timer runs through: a stage never stops on a record, and never
drops one silently.

Faust acknowledges the event in flight in a `finally`: an exception escaping an agent loses that
record (or the whole batch taken with it), seen only in the log, and the agent restarts. Here a
record whose handling fails is parked on the dead-letter stream with the reason and the stage (the
agent's name), then the stream moves on; a batch that fails is retried one record at a time where
the stage allows it (its handling is idempotent), so a poison record does not take its batch
along, else every record of it is parked. A record Faust cannot even decode is parked by its topic
(`ParkingTopic`). A timer that fails is logged and counted, and runs again at its next tick.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import faust
from faust.types import EventT, Message

from streamapp import telemetry
from streamapp.records import DeadLetter
from streamapp.worker.deps import Deps

log = logging.getLogger(__name__)

Park = Callable[[EventT, BaseException], Awaitable[None]]


def letter(stage: str, message: Message, reason: str, now: float, record_id: str = "") -> DeadLetter:
    """A Kafka record `stage` could not process; its id is stable (a replay parks nothing new)."""
    return DeadLetter.of(stage, f"{message.topic}/{message.partition}/{message.offset}", stream=message.topic,
                         reason=reason, payload=message.value or b"", at=now, original_id=record_id)


async def send_letters(deps: Deps, stage: str, letters: Sequence[DeadLetter]) -> None:
    """To the dead-letter topic, counted; a failure to park is logged with the ids, never raised."""
    telemetry.count("streamapp.deadletters", len(letters), stage=stage)
    for dl in letters:
        try:
            await deps.topics.deadletter.send(key=dl.id, value=dl)
        except Exception:  # the stage goes on; what was not parked is named in the log
            log.exception("%s: could not park %s (reason: %s)", stage, dl.id, dl.reason)


def parker(deps: Deps, stage: str) -> Park:
    async def park(event: EventT, exc: BaseException) -> None:
        record_id = getattr(event.value, "id", "")
        reason = f"{type(exc).__name__}: {exc}"
        await send_letters(deps, stage, [letter(stage, event.message, reason, deps.clock.now(), str(record_id))])

    return park


async def run_guarded(
    stage: str, events: Sequence[EventT], handle: Callable[[list[EventT]], Awaitable[object]], park: Park, *,
    retry_alone: bool,
) -> None:
    """`handle(events)`; if it raises, each event alone (`retry_alone`) or none, and what still
    fails is parked."""
    try:
        await handle(list(events))
        return
    except Exception as exc:
        log.exception("%s: %d record(s) failed", stage, len(events))
        if len(events) == 1 or not retry_alone:
            for event in events:
                await park(event, exc)
            return
    for event in events:
        try:
            await handle([event])
        except Exception as exc:
            log.exception("%s: record %s/%s failed alone", stage, event.message.partition, event.message.offset)
            await park(event, exc)


def guarded_agent(deps: Deps, topic: faust.TopicT, name: str, handle: Callable[[Any], Awaitable[object]]) -> None:
    """Agent `name` on `topic` calling `handle(record)` for one record at a time."""
    park = parker(deps, name)

    async def one(events: list[EventT]) -> None:
        await handle(events[0].value)

    @deps.app.agent(topic, name=name)
    async def run(stream):  # type: ignore[no-untyped-def]
        async for event in stream.events():
            await run_guarded(name, [event], one, park, retry_alone=False)


def guarded_batches(
    deps: Deps, topic: faust.TopicT, name: str, handle: Callable[[list[EventT]], Awaitable[object]], *,
    size: int, within: float, retry_alone: bool,
) -> None:
    """Agent `name` on `topic` calling `handle(events)` with up to `size` events (waiting at most
    `within` seconds for them); `retry_alone` when handling a record twice is harmless."""
    park = parker(deps, name)

    @deps.app.agent(topic, name=name)
    async def run(stream):  # type: ignore[no-untyped-def]
        async for events in stream.take_events(size, within=within):
            await run_guarded(name, events, handle, park, retry_alone=retry_alone)


def guarded_timer(deps: Deps, interval: float, name: str, tick: Callable[[], Awaitable[object]]) -> None:
    """Timer `name` every `interval` seconds; a failed tick is logged and counted, the next one runs."""

    async def run() -> None:
        try:
            await tick()
        except Exception:
            log.exception("%s: tick failed", name)
            telemetry.count("streamapp.stage_errors", stage=name)

    run.__name__ = run.__qualname__ = name  # Faust names the timer's task after the function
    deps.app.timer(interval=interval, name=name)(run)


class ParkingTopic(faust.Topic):
    """A topic whose undecodable records are parked with the reason instead of thrown at the agent
    (Faust acknowledges them first, and the agent would crash and restart)."""

    async def on_value_decode_error(self, exc: Exception, message: Message) -> None:
        await self._park_undecodable(exc, message)

    async def on_key_decode_error(self, exc: Exception, message: Message) -> None:
        await self._park_undecodable(exc, message)

    async def _park_undecodable(self, exc: Exception, message: Message) -> None:
        deps: Deps = self.app.deps  # type: ignore[attr-defined]
        log.error("undecodable record %s/%s/%s: %s", message.topic, message.partition, message.offset, exc)
        reason = f"undecodable: {type(exc).__name__}: {exc}"
        await send_letters(deps, "decode", [letter("decode", message, reason, deps.clock.now())])
