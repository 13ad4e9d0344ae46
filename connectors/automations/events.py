"""The audit trail of automations: every decision on the Redis stream `automation_events`."""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import RedisError

from connectors.redis_streams import StreamWriter
from streamapp.automations.records import AutomationEvent

log = logging.getLogger(__name__)


class EventLog:
    """Decisions to the `automation_events` stream, once per event id. An audit trail must not
    stop the actions it records: a Redis failure is retried briefly, then logged."""

    def __init__(self, writer: StreamWriter, stream: str, tries: int = 3) -> None:
        self.writer, self.stream, self.tries = writer, stream, tries

    async def record(self, *events: AutomationEvent) -> None:
        for attempt in range(self.tries):
            try:
                await self.writer.write(self.stream, list(events))
                return
            except (RedisError, OSError) as exc:
                log.warning("automations: recording events failed (%s), try %d", exc, attempt + 1)
                await asyncio.sleep(0.2 * 2**attempt)
        log.error("automations: events not recorded: %s", [e.id for e in events])
