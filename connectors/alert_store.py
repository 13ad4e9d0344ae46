"""The alerts on Redis: as the API reads and annotates them (the `alerts` stream paged newest first,
the `alert:<id>` hashes, the feedback sets and the `feedback` stream; names: the Redis contract),
and the alert groups the enricher keeps (`AlertGroups`), whose host list lives on the alert hash."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.exceptions import WatchError

from connectors.redis_streams import PENDING_PREFIX, connect
from streamapp import telemetry
from streamapp.alert_groups import AlertGroup, Joined, Occurrence, alert_fields, group_key, join_run
from streamapp.errors import TransientError
from streamapp.feedback import Feedback
from streamapp.records import encode_value
from streamapp.settings import Settings

VERDICT_SETS = {"correct": "alerts:feedback:correct", "incorrect": "alerts:feedback:incorrect"}
PERSISTED = "alerts:persisted"
SCAN_CHUNK = 500  # entries per XREVRANGE while filtering
WATCH_TRIES = 5  # concurrent feedback on one alert retries the transaction this often
GROUP_TRIES = 50  # an alert storm makes the workers' enrichers join one group at once: optimistic retries
MAX_MEMBERS = 100_000  # occurrence ids remembered per group (replay detection) within its window
LIVE_FIELDS = ("host_count", "hosts_unlisted", "occurrences", "last_seen")  # group fields a listing shows current

# Removing the TTL and remembering the id must both happen or neither, and only for an alert that exists.
_PERSIST = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('PERSIST', KEYS[1])
  redis.call('SADD', KEYS[2], ARGV[1])
  return 1
end
return 0
"""

Fields = dict[str, str]


@dataclass(frozen=True)
class StoredAlert:
    """An alert hash, its remaining TTL (None once persisted) and whether it was persisted."""

    fields: Fields
    ttl_sec: int | None
    persisted: bool


@dataclass(frozen=True)
class AlertPage:
    """Entries of the `alerts` stream, newest first: (entry id, fields, the hash's raw `feedback` or
    None). `next_before` continues the scan (None: the stream's start was reached); `scanned` counts
    the entries read, matching or not."""

    items: list[tuple[str, Fields, str | None]]
    next_before: str | None
    scanned: int


class AlertConflict(TransientError):
    """The alert kept changing under concurrent feedback; the caller may try again."""


class AlertStore:
    """Reads and annotates alerts. Every Redis failure surfaces as TransientError."""

    def __init__(self, client: aioredis.Redis, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self._persist = client.register_script(_PERSIST)

    @classmethod
    def from_settings(cls, settings: Settings) -> AlertStore:
        return cls(connect(settings), settings)

    async def aclose(self) -> None:
        await self.client.aclose()

    def _key(self, name: str) -> str:
        return self.settings.redis_key(name)

    async def page(self, *, before: str | None, limit: int, where: Mapping[str, str], budget: int) -> AlertPage:
        """Up to `limit` entries older than the entry id `before` whose fields equal `where`, reading at
        most `budget` entries; the matches' `feedback` and current group counts (LIVE_FIELDS) come from
        their hashes in one pipeline."""
        stream = self._key(self.settings.stream_alerts)
        found: list[tuple[str, Fields]] = []
        scanned, upper, last = 0, f"({before}" if before else "+", None
        with _unavailable():
            while len(found) < limit and scanned < budget:
                count = min(budget - scanned, SCAN_CHUNK if where else limit - len(found))
                entries = await self.client.xrevrange(stream, max=upper, min="-", count=count)
                for entry_id, raw in entries:
                    scanned += 1
                    last = entry_id.decode()
                    fields = _text(raw)
                    if all(fields.get(k) == v for k, v in where.items()):
                        found.append((last, fields))
                        if len(found) == limit:
                            break
                if len(entries) < count and len(found) < limit:
                    last = None  # read to the start of the stream
                    break
                upper = f"({last}"
            live = await self._live_fields([fields.get("id", "") for _, fields in found])
        items = [(eid, {**fields, **current}, fb) for (eid, fields), (fb, current) in zip(found, live, strict=True)]
        return AlertPage(items, last, scanned)

    async def _live_fields(self, ids: list[str]) -> list[tuple[str | None, Fields]]:
        """Per alert: the hash's raw `feedback` (or None), and its group fields that changed since
        the stream entry was written (hosts joined later)."""
        if not ids:
            return []
        async with self.client.pipeline(transaction=False) as pipe:
            for alert_id in ids:
                pipe.hmget(self._key(f"alert:{alert_id}"), ["feedback", *LIVE_FIELDS])
            rows = await pipe.execute()
        out = []
        for values in rows:
            text = [v.decode("utf-8", errors="replace") if v is not None else None for v in values]
            out.append((text[0], {k: v for k, v in zip(LIVE_FIELDS, text[1:], strict=True) if v is not None}))
        return out

    async def get(self, alert_id: str) -> StoredAlert | None:
        """The alert hash, or None when it does not exist (never written, or expired)."""
        key = self._key(f"alert:{alert_id}")
        with _unavailable():
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.hgetall(key)
                pipe.ttl(key)
                pipe.sismember(self._key(PERSISTED), alert_id)
                raw, ttl, persisted = await pipe.execute()
        if not raw:
            return None
        return StoredAlert(_text(raw), ttl if ttl >= 0 else None, bool(persisted))

    async def record_feedback(
        self, alert_id: str, make: Callable[[Fields], Feedback]
    ) -> tuple[Feedback, str] | None:
        """Record the feedback `make` builds from the alert's fields, in one transaction: the hash's
        `feedback` field, the id in exactly one verdict set, and an entry on the feedback stream.
        Returns the feedback and its entry id, or None when the alert does not exist. Exceptions of
        `make` propagate with nothing written."""
        key = self._key(f"alert:{alert_id}")
        with _unavailable():
            async with self.client.pipeline(transaction=True) as pipe:
                for _ in range(WATCH_TRIES):
                    try:
                        # watched, so an alert expiring or changing meanwhile is not half-written
                        await pipe.watch(key)
                        raw = await pipe.hgetall(key)  # type: ignore[misc]  # immediate while watching
                        if not raw:
                            return None
                        feedback = make(_text(raw))
                        pipe.multi()
                        pipe.hset(key, "feedback", feedback.hash_value())
                        for verdict, name in VERDICT_SETS.items():
                            if verdict == feedback.verdict:
                                pipe.sadd(self._key(name), alert_id)
                            else:
                                pipe.srem(self._key(name), alert_id)
                        pipe.xadd(
                            self._key(self.settings.stream_feedback), feedback.to_redis(),  # type: ignore[arg-type]
                            maxlen=self.settings.outbound_stream_maxlen, approximate=True,
                        )
                        results = await pipe.execute()
                    except WatchError:
                        continue
                    return feedback, results[-1].decode()
        raise AlertConflict(f"alert {alert_id!r} changed during {WATCH_TRIES} feedback attempts")

    async def persist(self, alert_id: str) -> bool:
        """Remove the alert's TTL and add it to `alerts:persisted`; False when it does not exist."""
        keys = [self._key(f"alert:{alert_id}"), self._key(PERSISTED)]
        with _unavailable():
            return bool(await self._persist(keys=keys, args=[alert_id]))


class AlertGroups:
    """The open alert groups (`streamapp.alert_groups`) on Redis, shared by every enricher.

    `alertgroup:<hash>` holds the group (JSON) and `alertgroup:<hash>:members` the ids that joined
    (so a replay counts nothing twice); both expire with the window. Each join also writes the
    group's alert fields (`alert_fields`: hosts, counts, first and last seen) onto the owner's
    hash `alert:<id>`, or, while the outbound bridge has not written that hash yet, onto
    `pending:alert:<id>`, which the bridge merges in when it writes the hash."""

    def __init__(self, client: aioredis.Redis, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    async def join(self, occ: Occurrence, alert_id: str, window_sec: float) -> AlertGroup:
        """Add `occ` to its open group, or open one spoken for by `alert_id`; the group after it.
        A replay (an id that already joined) changes nothing. Raises TransientError."""
        (group,) = await self.join_many([(occ, alert_id)], window_sec)
        return group

    async def join_many(self, joins: Sequence[tuple[Occurrence, str]], window_sec: float) -> list[AlertGroup]:
        """`join` for each of `joins` in order; the group each ended in. One transaction per group
        key (more only when a key's window ends within them): a batch of candidates costs a few
        round trips per failure, not per candidate (each round trip waits for the worker's event
        loop, which other stages keep busy under load)."""
        by_key: dict[str, list[int]] = {}
        for i, (occ, _) in enumerate(joins):
            by_key.setdefault(group_key(occ), []).append(i)
        out: dict[int, AlertGroup] = {}
        for gkey, indices in by_key.items():
            done = 0
            while done < len(indices):
                joined = await self._join_key(self.settings.redis_key(gkey), [joins[i] for i in indices[done:]],
                                              window_sec)
                out.update((i, joined.group) for i in indices[done:done + joined.taken])
                done += joined.taken
        return [out[i] for i in range(len(joins))]

    async def _join_key(self, key: str, joins: list[tuple[Occurrence, str]], window_sec: float) -> Joined:
        with _unavailable():
            async with self.client.pipeline(transaction=True) as pipe:
                for attempt in range(GROUP_TRIES):
                    try:
                        return await self._join(pipe, key, joins, window_sec)
                    except WatchError:  # another enricher joined first: try again a little later
                        await asyncio.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))
        raise AlertConflict(f"alert group {key!r} changed during {GROUP_TRIES} attempts")

    async def _join(self, pipe: Any, key: str, joins: list[tuple[Occurrence, str]], window_sec: float) -> Joined:
        members = f"{key}:members"
        await pipe.watch(key, members)
        raw = await pipe.get(key)
        ids = [occ.id for occ, _ in joins]
        known = {i for i, flag in zip(ids, await pipe.smismember(members, ids), strict=True) if flag}
        joined = join_run(AlertGroup.from_json(raw) if raw else None, known.__contains__, joins, window_sec)
        if not joined.new_ids:  # replays only
            await pipe.unwatch()
            return joined
        room = MAX_MEMBERS - (0 if joined.fresh else await pipe.scard(members))
        tracked = joined.new_ids[:max(0, room)]
        if len(tracked) < len(joined.new_ids):  # a replay of those would count twice
            telemetry.count("streamapp.alertgroups.untracked", len(joined.new_ids) - len(tracked))
        group = joined.group
        hash_key = self.settings.redis_key(f"alert:{group.owner}")
        await pipe.watch(hash_key)
        written = await pipe.exists(hash_key)
        pipe.multi()
        ttl = max(1, int(window_sec))
        if joined.fresh:
            pipe.set(key, group.to_json(), ex=ttl)
            pipe.delete(members)
        else:
            pipe.set(key, group.to_json(), keepttl=True)
        if tracked:
            pipe.sadd(members, *tracked)
            pipe.expire(members, ttl, nx=True)
        fields = {name: encode_value(value) for name, value in alert_fields(group).items()}
        if written:
            pipe.hset(hash_key, mapping=fields)
        else:
            pending = self.settings.redis_key(f"{PENDING_PREFIX}alert:{group.owner}")
            pipe.hset(pending, mapping=fields)
            pipe.expire(pending, self.settings.alerts_ttl_sec)
        await pipe.execute()
        return joined


class MemoryAlertGroups(AlertGroups):
    """The in-memory twin (unit tests of the enrichers): the same decision (`streamapp.alert_groups`),
    the same replay rule; `fields` holds what the real one writes on each owner's alert hash."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(None, settings)  # type: ignore[arg-type]
        self.groups: dict[str, AlertGroup] = {}
        self.members: dict[str, set[str]] = {}
        self.fields: dict[str, dict[str, Any]] = {}

    async def join_many(self, joins: Sequence[tuple[Occurrence, str]], window_sec: float) -> list[AlertGroup]:
        out = []
        for occ, alert_id in joins:
            key = group_key(occ)
            joined = join_run(self.groups.get(key), self.members.get(key, set()).__contains__, [(occ, alert_id)],
                              window_sec)
            if joined.fresh:
                self.members[key] = set()
            self.groups[key] = joined.group
            self.members[key].update(joined.new_ids)
            self.fields[joined.group.owner] = alert_fields(joined.group)
            out.append(joined.group)
        return out


def _text(raw: Mapping[bytes, bytes]) -> Fields:
    return {k.decode("utf-8", errors="replace"): v.decode("utf-8", errors="replace") for k, v in raw.items()}


@contextlib.contextmanager
def _unavailable() -> Iterator[None]:
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as exc:
        raise TransientError(f"redis unavailable: {exc}") from exc

