"""The console's reads of the Redis contract beyond the alert store: recent candidates, the evidence
of an issue alert, automation events and per-minute counts. Every read is bounded (a page, a count
or a time window), so a page costs the same with ten alerts or ten million."""

from __future__ import annotations

import contextlib
import json
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from streamapp.errors import TransientError
from streamapp.records import IssueCandidate, decode_value
from streamapp.settings import Settings
from streamapp.shards import entry_of

CANDIDATE_SEARCH_ENTRIES = 600  # candidates read at most to find the one behind an alert
CANDIDATE_SEARCH_BEFORE_SEC = 900.0  # ... written at most this long before the alert was created
CANDIDATE_SEARCH_AFTER_SEC = 120.0  # ... or this long after (the outbound bridge may lag)
EVENTS_SEARCH_ENTRIES = 1000  # automation events read at most for one alert
CHUNK = 100

Fields = dict[str, str]
_CANDIDATE_HINTS = {name: typing.get_type_hints(IssueCandidate)[name] for name in IssueCandidate._options.fields}


@contextlib.contextmanager
def unavailable(what: str) -> Iterator[None]:
    try:
        yield
    except (RedisError, OSError) as exc:
        raise TransientError(f"{what}: Redis unavailable: {exc}") from exc


def text(raw: Mapping[bytes, bytes]) -> Fields:
    return {k.decode("utf-8", errors="replace"): v.decode("utf-8", errors="replace") for k, v in raw.items()}


def decoded_candidate(fields: Fields) -> dict[str, Any]:
    """Candidate fields typed as the record declares them; a value that does not decode stays text."""
    out: dict[str, Any] = {}
    for name, raw in fields.items():
        try:
            out[name] = decode_value(_CANDIDATE_HINTS.get(name, str), raw)
        except (ValueError, TypeError, RecursionError):
            out[name] = raw
    return out


@dataclass(frozen=True)
class Page:
    items: list[tuple[str, dict[str, Any]]]
    next_before: str | None


async def recent_candidates(client: aioredis.Redis, settings: Settings, *, before: str | None, limit: int) -> Page:
    """Issue candidates newest first, older than the entry id `before`."""
    key = settings.redis_key(settings.stream_issues_candidates)
    with unavailable("candidates"):
        entries = await client.xrevrange(key, max=f"({before}" if before else "+", min="-", count=limit + 1)
    items = [(eid.decode(), decoded_candidate(text(raw))) for eid, raw in entries]
    nxt = items[limit - 1][0] if len(items) > limit else None
    return Page(items[:limit], nxt)


async def find_candidate(
    client: aioredis.Redis, settings: Settings, candidate_id: str, created_at: float
) -> dict[str, Any] | None:
    """The issue candidate `candidate_id`, looked for where it must be: its mirror on Redis is
    written about when the enricher raised the alert (`created_at`). Reads at most
    CANDIDATE_SEARCH_ENTRIES entries, newest of the window first; None when it is not there
    (expired by the stream cap, or an alert from elsewhere)."""
    if created_at <= 0:
        return None
    key = settings.redis_key(settings.stream_issues_candidates)
    upper = f"{int((created_at + CANDIDATE_SEARCH_AFTER_SEC) * 1000)}"
    lower = f"{max(0, int((created_at - CANDIDATE_SEARCH_BEFORE_SEC) * 1000))}"
    read = 0
    with unavailable("candidates"):
        while read < CANDIDATE_SEARCH_ENTRIES:
            entries = await client.xrevrange(key, max=upper, min=lower, count=CHUNK)
            for _, raw in entries:
                if raw.get(b"id", b"").decode("utf-8", errors="replace") == candidate_id:
                    return decoded_candidate(text(raw))
            read += len(entries)
            if len(entries) < CHUNK:
                return None
            upper = f"({entries[-1][0].decode()}"
    return None


async def log_lines(client: aioredis.Redis, settings: Settings, ids: list[str]) -> dict[str, Fields]:
    """Lines of `logs` (or of its shards) by line id (one pipeline; trimmed entries are simply absent)."""
    wanted = [(i, *entry_of(i)) for i in ids if _is_entry_id(entry_of(i)[1])][:50]
    if not wanted:
        return {}
    with unavailable("logs"):
        async with client.pipeline(transaction=False) as pipe:
            for _, shard, entry_id in wanted:
                pipe.xrange(settings.logs_key(shard), min=entry_id, max=entry_id, count=1)
            answers = await pipe.execute()
    return {line: text(found[0][1]) for (line, _, _), found in zip(wanted, answers, strict=True) if found}


async def automation_events(
    client: aioredis.Redis, stream_key: str, alert_id: str, created_at: float
) -> list[dict[str, Any]]:
    """Automation decisions on `alert_id`, oldest first: they come after the alert was raised, so the
    stream is read from then on, at most EVENTS_SEARCH_ENTRIES entries."""
    lower = f"{max(0, int((created_at - 5) * 1000))}" if created_at > 0 else "-"
    found: list[dict[str, Any]] = []
    read = 0
    with unavailable("automation events"):
        while read < EVENTS_SEARCH_ENTRIES:
            entries = await client.xrange(stream_key, min=lower, max="+", count=CHUNK)
            for _, raw in entries:
                fields = text(raw)
                if fields.get("alert_id") == alert_id:
                    found.append({k: _json_or_text(v) if k in ("action", "response") else v for k, v in fields.items()})
            read += len(entries)
            if len(entries) < CHUNK:
                break
            lower = f"({entries[-1][0].decode()}"
    return found


@dataclass(frozen=True)
class MinuteCounts:
    """Counts per minute (epoch minute -> n) since `since_minute`; `complete` is False when the read
    budget ran out first (then only minutes from `covered_from` on are counted)."""

    counts: dict[int, float]
    complete: bool
    covered_from: int


async def per_minute(
    client: aioredis.Redis, key: str, *, since: float, budget: int, weight: str | None = None
) -> MinuteCounts:
    """Entries of stream `key` per minute since `since` (epoch s), newest first, reading at most
    `budget` entries; with `weight`, that numeric field is summed instead of counting entries."""
    counts: dict[int, float] = {}
    upper, lower = "+", str(int(since * 1000))
    read, covered = 0, int(since // 60)
    with unavailable("counts"):
        while read < budget:
            count = min(CHUNK * 5, budget - read)
            entries = await client.xrevrange(key, max=upper, min=lower, count=count)
            for eid, raw in entries:
                minute = int(eid.split(b"-")[0]) // 60_000
                value = 1.0
                if weight is not None:
                    try:
                        value = float(raw.get(weight.encode(), b"0"))
                    except ValueError:
                        value = 0.0
                counts[minute] = counts.get(minute, 0.0) + value
            read += len(entries)
            if len(entries) < count:
                return MinuteCounts(counts, True, covered)
            upper = f"({entries[-1][0].decode()}"
    oldest = min(counts) if counts else covered
    # The oldest minute read may be partial: count from the next one on.
    return MinuteCounts({m: n for m, n in counts.items() if m > oldest}, False, oldest + 1)


def _is_entry_id(value: str) -> bool:
    ms, _, seq = value.partition("-")
    return ms.isdecimal() and len(ms) <= 20 and (seq == "" or (seq.isdecimal() and len(seq) <= 20))


def _json_or_text(raw: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return raw
