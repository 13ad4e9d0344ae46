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
from streamapp.shards import entry_of, stream_name


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
        out = []
        for eid in entry_ids:
            found = await self.client.xrange(self.stream, min=eid, max=eid)
            if not found:
                out.append(Outcome(eid, "unknown"))
                continue
            letter = DeadLetter.from_redis(found[0][1])
            origin = self._origin(letter)
            if origin is None:
                out.append(Outcome(eid, "not a logs entry"))
                continue
            logs, original_id = origin
            if await self.client.sismember(self.replayed, eid):
                out.append(Outcome(eid, "already replayed"))
                continue
            original = await self.client.xrange(logs, min=original_id, max=original_id)
            if not original:
                out.append(Outcome(eid, "original gone"))
                continue
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.xadd(logs, original[0][1], maxlen=self.settings.logs_maxlen, approximate=True)
                pipe.sadd(self.replayed, eid)
                await pipe.execute()
            out.append(Outcome(eid, "replayed"))
        return out

    def _origin(self, letter: DeadLetter) -> tuple[str, str] | None:
        """(stream key, entry id) a dead `logs` line came from: the bridge names the shard's
        stream and the entry id, a stage names `logs` and the line id (`streamapp.shards`)."""
        s = self.settings
        names = {stream_name(s.stream_logs, k): k for k in range(s.logs_shards)}
        if letter.stream not in names:
            return None
        shard, entry_id = entry_of(letter.original_id)
        return s.logs_key(names[letter.stream] or shard), entry_id

    async def all_ids(self) -> list[str]:
        return [eid.decode() for eid, _ in await self.client.xrange(self.stream)]
