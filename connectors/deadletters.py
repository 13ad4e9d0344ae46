"""The dead-letter stream: listing it, and re-injecting entries once their cause is fixed.

A dead letter of `logs` names the original entry; while that entry is still in the stream (it
is trimmed only after every group acknowledged it and the retention passed), a replay adds its
exact fields again as a new entry, for the bridge to judge anew. Replayed letters are marked, so
a second replay does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from streamapp.records import DeadLetter
from streamapp.settings import Settings


@dataclass(frozen=True)
class Outcome:
    letter_id: str  # the dead-letter stream entry id
    result: str  # replayed | already replayed | original gone | not a logs entry | unknown


class DeadLetters:
    def __init__(self, client: aioredis.Redis, settings: Settings) -> None:
        self.client, self.settings = client, settings
        self.stream = settings.redis_key(settings.stream_deadletter)
        self.replayed = settings.redis_key("deadletter:replayed")

    async def page(self, before: str | None, limit: int) -> tuple[list[dict], str | None]:
        """Newest first; `next_before` continues the listing."""
        top = f"({before}" if before else "+"
        entries = await self.client.xrevrange(self.stream, max=top, min="-", count=limit)
        items = []
        for eid, fields in entries:
            letter = DeadLetter.from_redis(fields)
            replayed = await self.client.sismember(self.replayed, eid)
            items.append({"entry_id": eid.decode(), **letter.asdict(), "replayed": bool(replayed)})
        nxt = entries[-1][0].decode() if len(entries) == limit else None
        return items, nxt

    async def replay(self, entry_ids: list[str]) -> list[Outcome]:
        logs = self.settings.redis_key(self.settings.stream_logs)
        out = []
        for eid in entry_ids:
            found = await self.client.xrange(self.stream, min=eid, max=eid)
            if not found:
                out.append(Outcome(eid, "unknown"))
                continue
            letter = DeadLetter.from_redis(found[0][1])
            if letter.stream != self.settings.stream_logs:
                out.append(Outcome(eid, "not a logs entry"))
                continue
            if await self.client.sismember(self.replayed, eid):
                out.append(Outcome(eid, "already replayed"))
                continue
            original = await self.client.xrange(logs, min=letter.original_id, max=letter.original_id)
            if not original:
                out.append(Outcome(eid, "original gone"))
                continue
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.xadd(logs, original[0][1], maxlen=self.settings.logs_maxlen, approximate=True)
                pipe.sadd(self.replayed, eid)
                await pipe.execute()
            out.append(Outcome(eid, "replayed"))
        return out

    async def all_ids(self) -> list[str]:
        return [eid.decode() for eid, _ in await self.client.xrange(self.stream)]
