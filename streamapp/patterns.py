"""Template patterns over time, per OS and host: the new, rising and falling patterns log-pattern
views show, and the novelty signals issues get from them.

The consumer sends, per batch and OS, which template each line had, on which host and under which
aggregation key (`pattern_counts`). The patterns agent keeps, for each OS, a book (when it was
first seen, lines counted, each `logs` partition's high-water offset so a redelivered line counts
once, and counters of what the bounds dropped) and per template its counts in fixed time buckets,
OS-wide and per host. Two signals come out of it, only after the OS's warm-up (a time and a number
of lines since its first line, so a fresh install does not call everything new):

- `novel_template`: a template never seen before for that OS, whose family (`template_family`)
  is new too (the miners of two workers may mask a value differently, and a miner may split a new
  event's lines into several templates until it masks their values: one signal per family), and
  which is not a known template renamed by the miner (generalised or merged: it takes over the
  old one's history);
- `template_rate`: a template whose count in the current bucket is at least `rate_factor` times
  its own baseline (its mean per bucket since it was first seen, within the kept history) and at
  least `rate_min` lines; once per template and bucket.

Pure: the entries are read through `Store.get` (the table, or a dict in tests) and the ones to
write are returned; the time comes with the batch.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from streamapp.alert_groups import template_family
from streamapp.batches import MAX_RECORD_BYTES, fit
from streamapp.issues import partition_key
from streamapp.mining import TemplateChange
from streamapp.records import ParsedEvent, PatternCounts
from streamapp.settings import Settings

MAX_TEXT = 300  # characters of a template kept with its counts
MAX_SIGNAL_KEYS = 100  # issues one signal is sent to (the first keys of the batch)
RISE_MIN = 5  # lines in the recent window before a pattern counts as rising (or, before, as falling)
NOVEL = "novel_template"
RATE = "template_rate"


@dataclass(frozen=True)
class PatternPolicy:
    """Buckets, bounds, warm-up and thresholds (settings PATTERN_*)."""

    bucket_sec: float = 60.0
    buckets: int = 60  # OS-wide history kept per template
    host_buckets: int = 12  # history kept per template and host
    max_templates: int = 2000  # per OS; the least recently seen go past it
    max_hosts: int = 50  # per template; lines of further hosts are only counted
    warmup_sec: float = 3600.0
    warmup_lines: int = 1000
    rate_factor: float = 5.0
    rate_min: int = 20
    baseline_buckets: int = 5  # history a template needs before its rate is judged
    recent_buckets: int = 5  # the window of "rising" and "falling"

    @classmethod
    def from_settings(cls, s: Settings) -> PatternPolicy:
        return cls(
            bucket_sec=s.pattern_bucket_sec, buckets=s.pattern_buckets, host_buckets=max(2, s.pattern_buckets // 5),
            max_templates=s.pattern_max_templates, max_hosts=s.pattern_max_hosts, warmup_sec=s.pattern_warmup_sec,
            warmup_lines=s.pattern_warmup_lines, rate_factor=s.pattern_rate_factor, rate_min=s.pattern_rate_min,
        )

    def bucket(self, t: float) -> float:
        return math.floor(t / self.bucket_sec) * self.bucket_sec


class Store(Protocol):
    def get(self, key: str) -> Any: ...


def book_key(os_name: str) -> str:
    return f"{os_name}\x00book"


def template_key(os_name: str, tid: str) -> str:
    return f"{os_name}\x00t\x00{tid}"


def family_key(os_name: str, family: str) -> str:
    return f"{os_name}\x00f\x00{family}"


def os_prefix(os_name: str) -> str:
    return f"{os_name}\x00"


@dataclass
class OsBook:
    """One OS: its warm-up, what was counted and what the bounds dropped."""

    os: str
    first_t: float
    lines: int = 0
    templates: int = 0
    dropped_templates: int = 0  # templates forgotten past max_templates
    dropped_host_lines: int = 0  # lines counted on a template but not on a host past max_hosts
    high_water: dict[str, int] = field(default_factory=dict)  # `logs` partition -> newest offset counted

    def warm(self, t: float, policy: PatternPolicy) -> bool:
        return t - self.first_t >= policy.warmup_sec and self.lines >= policy.warmup_lines

    def warm_at(self, policy: PatternPolicy) -> float:
        """When the warm-up time is over (the line count may still be short)."""
        return self.first_t + policy.warmup_sec


@dataclass
class HostCounts:
    first_t: float
    last_t: float
    total: int = 0
    series: list[list[float]] = field(default_factory=list)  # [bucket start, lines], oldest first


@dataclass
class TemplateStats:
    """One template of one OS over time."""

    id: str
    text: str
    family: str
    first_t: float
    last_t: float
    novel: bool = False  # first seen after its OS's warm-up
    total: int = 0
    series: list[list[float]] = field(default_factory=list)
    hosts: dict[str, HostCounts] = field(default_factory=dict)
    rate_bucket: float = -1.0  # bucket of the last rate signal

    def asdict(self) -> dict[str, Any]:
        return asdict(self)

    def overall(self) -> HostCounts:
        """The OS-wide counts, shaped like one host's."""
        return HostCounts(self.first_t, self.last_t, self.total, self.series)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TemplateStats:
        hosts = {h: HostCounts(**c) for h, c in data.get("hosts", {}).items()}
        return cls(**{**data, "hosts": hosts})


@dataclass(frozen=True)
class PatternSignal:
    """A signal for the issues whose lines had the template (`keys`: their aggregation keys)."""

    rule: str
    template_id: str
    template: str
    count: int  # lines: of the batch for a new template, of the current bucket for a rate
    t: float
    keys: tuple[str, ...]
    baseline: float = 0.0  # lines per bucket before (rate)
    os_templates: int = 0  # templates the OS had (novelty)
    bucket_sec: float = 0.0

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        del out["keys"]
        return out


@dataclass
class Observed:
    """What a batch changed: entries to write (key -> JSON value) and to delete, the signals, and
    whether the OS is over its template bound (the caller then runs `evict` over its entries)."""

    writes: dict[str, dict[str, Any]] = field(default_factory=dict)
    deletes: list[str] = field(default_factory=list)  # templates renamed into others
    signals: list[PatternSignal] = field(default_factory=list)
    over: bool = False


# ------------------------------------------------------------------------------- consumer side
def pattern_counts(
    events: Sequence[ParsedEvent], key_fields: Sequence[str], changes: Mapping[str, Sequence[TemplateChange]],
    now: float, max_bytes: int = MAX_RECORD_BYTES,
) -> tuple[list[PatternCounts], int]:
    """Per OS of a consumer batch, each line's template, host, aggregation key and `logs` position,
    the templates' texts and the miner's renames: one record, or several when one would be too large
    for Kafka (a backlog makes large batches). Split records hold rows in `logs` order, so no row of a
    partition follows a later one into an earlier record (the agent skips rows at or below a
    partition's high-water mark), and each repeats the renames (applying one twice changes nothing).
    Also returns the rows too large for any record (none in practice: a row is a line's ids)."""
    by_os: dict[str, list[ParsedEvent]] = {}
    for ev in events:
        by_os.setdefault(ev.os, []).append(ev)
    out: list[PatternCounts] = []
    dropped = 0
    for os_name, evs in by_os.items():
        renamed = [[c.old_id, c.new_id] for c in changes.get(os_name, ()) if c.old_id != c.new_id]

        def counts(run: list[ParsedEvent], os_name: str = os_name, renamed: list = renamed) -> PatternCounts:
            rec = PatternCounts(os=os_name, t=now, renamed=renamed)
            for ev in run:
                rec.templates.setdefault(ev.template_id, ev.template[:MAX_TEXT])
                rec.rows.append([ev.template_id, ev.host, partition_key(ev, key_fields), ev.src, ev.off])
            return rec

        records, too_big = fit(sorted(evs, key=lambda ev: (ev.src, ev.off)), counts, max_bytes)
        out.extend(rec for _, rec, _ in records)
        dropped += len(too_big)
    return out, dropped


# -------------------------------------------------------------------------------- agent side
def _bump(series: list[list[float]], b: float, n: int, keep: int, bucket_sec: float) -> None:
    """Add `n` lines to bucket `b` (buckets stay in order), keeping the newest `keep` buckets."""
    i = len(series)
    while i and series[i - 1][0] > b:
        i -= 1
    if i and series[i - 1][0] == b:
        series[i - 1][1] += n
    else:
        series.insert(i, [b, n])
    newest = series[-1][0]
    while series[0][0] <= newest - keep * bucket_sec:
        del series[0]


def _lines(series: Iterable[list[float]], start: float, end: float) -> int:
    return int(sum(n for b, n in series if start <= b < end))


def final_ids(renamed: Iterable[Sequence[str]]) -> dict[str, str]:
    """Each template id the miner renamed to one other id, with the last id of its chain (a split,
    one id renamed to several, has no single successor and is left alone)."""
    targets: dict[str, set[str]] = defaultdict(set)
    for old, new in renamed:
        targets[old].add(new)
    single = {old: next(iter(new)) for old, new in targets.items() if len(new) == 1}
    out = {}
    for old in single:
        tid, seen = old, {old}
        while tid in single and single[tid] not in seen:
            tid = single[tid]
            seen.add(tid)
        out[old] = tid
    return out


class _Batch:
    """The batch's lines past the high-water marks, counted per template and host under the
    template each line has at the end of the batch (the miner may have generalised it since)."""

    def __init__(self, book: OsBook, rows: Sequence[Sequence[Any]], final: Mapping[str, str]) -> None:
        self.counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.keys: dict[str, dict[str, None]] = defaultdict(dict)
        marks = dict(book.high_water)
        for tid, host, key, src, off in rows:
            tid = final.get(tid, tid)
            if src >= 0:
                if off <= marks.get(str(src), -1):
                    continue  # counted before this redelivery
                book.high_water[str(src)] = max(off, book.high_water.get(str(src), -1))
            self.counts[tid][host] += 1
            if len(self.keys[tid]) < MAX_SIGNAL_KEYS:
                self.keys[tid][key] = None
        self.lines = sum(n for hosts in self.counts.values() for n in hosts.values())


def observe(store: Store, batch: PatternCounts, policy: PatternPolicy) -> Observed:
    """Count one OS's batch into its book and templates; the entries to write and the signals."""
    obs = Observed()
    t = batch.t
    raw_book = store.get(book_key(batch.os))
    book = OsBook(**raw_book) if raw_book else OsBook(os=batch.os, first_t=t)
    warm = book.warm(t, policy)
    loaded: dict[str, TemplateStats | None] = {}

    def stats(tid: str) -> TemplateStats | None:
        if tid not in loaded:
            raw = store.get(template_key(batch.os, tid))
            loaded[tid] = TemplateStats.from_dict(raw) if raw else None
        return loaded[tid]

    final = final_ids(batch.renamed)
    texts = {final.get(tid, tid): text for tid, text in batch.templates.items()} | batch.templates
    for old, new in final.items():  # a generalised or merged template takes the history of the old one
        before = stats(old)
        if before is None:
            continue
        after = stats(new)
        if after is None:
            text = texts.get(new, before.text)
            after = loaded[new] = TemplateStats(id=new, text=text, family=template_family(text),
                                                first_t=before.first_t, last_t=before.last_t, novel=before.novel)
            _family_mark(store, obs, batch.os, after.family, t, before.novel)
        _merge(after, before, policy, book)
        loaded[old] = None
        obs.deletes.append(template_key(batch.os, old))
        book.templates -= 1
    counted = _Batch(book, batch.rows, final)
    for tid, hosts in counted.counts.items():
        entry = stats(tid)
        n = sum(hosts.values())
        if entry is None:
            entry, novel = _new_template(store, batch, tid, texts.get(tid, ""), warm, book, obs)
            loaded[tid] = entry
            if novel:
                obs.signals.append(PatternSignal(NOVEL, tid, entry.text, n, t, tuple(counted.keys[tid]),
                                                 os_templates=book.templates))
        _count(entry, hosts, t, book, policy)
        if warm:
            rate = _rate_signal(entry, t, policy, tuple(counted.keys[tid]))
            if rate is not None:
                obs.signals.append(rate)
    book.lines += counted.lines
    obs.writes.update({template_key(batch.os, tid): s.asdict() for tid, s in loaded.items()
                       if s is not None and (tid in counted.counts or tid in final.values())})
    obs.writes[book_key(batch.os)] = asdict(book)
    obs.over = book.templates > policy.max_templates
    return obs


def _family_mark(store: Store, obs: Observed, os_name: str, family: str, t: float, novel: bool) -> tuple[dict, bool]:
    """The family's mark (created with `novel` when missing: the family is new since the warm-up)
    and whether it was just created."""
    key = family_key(os_name, family)
    mark = obs.writes.get(key) or store.get(key)
    if mark is not None:
        return mark, False
    obs.writes[key] = {"t": t, "novel": novel}
    return obs.writes[key], True


def _new_template(store: Store, batch: PatternCounts, tid: str, text: str, warm: bool, book: OsBook,
                  obs: Observed) -> tuple[TemplateStats, bool]:
    """A template first seen now, and whether it is a novelty signal: its family is unknown. It
    shows as new when its family first came after the warm-up (the miner may still split a new
    event's lines into several templates before it masks their values)."""
    family = template_family(text)
    mark, created = _family_mark(store, obs, batch.os, family, batch.t, warm)
    book.templates += 1
    stats = TemplateStats(id=tid, text=text, family=family, first_t=batch.t, last_t=batch.t,
                          novel=bool(mark.get("novel")))
    return stats, warm and created


def _count(entry: TemplateStats, hosts: Mapping[str, int], t: float, book: OsBook, policy: PatternPolicy) -> None:
    b = policy.bucket(t)
    n = sum(hosts.values())
    entry.total += n
    entry.last_t = max(entry.last_t, t)
    _bump(entry.series, b, n, policy.buckets, policy.bucket_sec)
    for host, k in hosts.items():
        counts = entry.hosts.get(host)
        if counts is None:
            if len(entry.hosts) >= policy.max_hosts:
                book.dropped_host_lines += k
                continue
            counts = entry.hosts[host] = HostCounts(first_t=t, last_t=t)
        counts.total += k
        counts.last_t = max(counts.last_t, t)
        _bump(counts.series, b, k, policy.host_buckets, policy.bucket_sec)


def _merge(into: TemplateStats, other: TemplateStats, policy: PatternPolicy, book: OsBook) -> None:
    """Add another template's counts to `into` (the miner merged or generalised it into that one)."""
    into.first_t, into.last_t = min(into.first_t, other.first_t), max(into.last_t, other.last_t)
    into.total += other.total
    for b, n in other.series:
        _bump(into.series, b, int(n), policy.buckets, policy.bucket_sec)
    for host, c in other.hosts.items():
        mine = into.hosts.get(host)
        if mine is None:
            if len(into.hosts) >= policy.max_hosts:
                book.dropped_host_lines += c.total
                continue
            mine = into.hosts[host] = HostCounts(first_t=c.first_t, last_t=c.last_t)
        mine.first_t, mine.last_t = min(mine.first_t, c.first_t), max(mine.last_t, c.last_t)
        mine.total += c.total
        for b, n in c.series:
            _bump(mine.series, b, int(n), policy.host_buckets, policy.bucket_sec)


def _rate_signal(entry: TemplateStats, t: float, policy: PatternPolicy, keys: tuple[str, ...]) -> PatternSignal | None:
    b = policy.bucket(t)
    start = max(policy.bucket(entry.first_t), b - policy.buckets * policy.bucket_sec)
    slots = round((b - start) / policy.bucket_sec)
    if slots < policy.baseline_buckets or entry.rate_bucket == b:
        return None
    baseline = _lines(entry.series, start, b) / slots
    current = _lines(entry.series, b, b + policy.bucket_sec)
    if current < policy.rate_min or current < policy.rate_factor * baseline:
        return None
    entry.rate_bucket = b
    return PatternSignal(RATE, entry.id, entry.text, current, t, keys, baseline=round(baseline, 3),
                         bucket_sec=policy.bucket_sec)


def evict(entries: Iterable[tuple[str, Mapping[str, Any]]], os_name: str,
          policy: PatternPolicy) -> tuple[list[str], dict[str, Any]]:
    """Over its bound, an OS forgets its least recently seen templates (down to 90% of the bound)
    and the family marks no kept template uses: the keys to delete and the book to write."""
    book_raw: dict[str, Any] = {}
    templates: list[tuple[float, str, str]] = []  # (last seen, key, family)
    families: list[str] = []
    for key, value in entries:
        if key == book_key(os_name):
            book_raw = dict(value)
        elif key.startswith(template_key(os_name, "")):
            templates.append((value["last_t"], key, value["family"]))
        elif key.startswith(family_key(os_name, "")):
            families.append(key)
    book = OsBook(**book_raw) if book_raw else OsBook(os=os_name, first_t=0.0)
    templates.sort()
    cut = max(0, len(templates) - int(policy.max_templates * 0.9))
    gone = [key for _, key, _ in templates[:cut]]
    kept = {family_key(os_name, fam) for _, _, fam in templates[cut:]}
    book.templates = len(templates) - cut
    book.dropped_templates += cut
    return gone + [key for key in families if key not in kept], asdict(book)


# ------------------------------------------------------------------------------------- the view
STATUSES = ("new", "rising", "falling", "steady")
QUERY_PARAMS = frozenset({"os", "host", "status", "offset", "limit"})
MAX_NAME = 256  # characters of an OS or host name in a query
MAX_PAGE = 500


def _trend(counts: HostCounts, novel: bool, now: float, keep: int,
           policy: PatternPolicy) -> tuple[str, int, float, float | None]:
    """(status, recent lines, recent lines per bucket, earlier lines per bucket or None)."""
    series, first_t = counts.series, counts.first_t
    bs = policy.bucket_sec
    bn = policy.bucket(now)
    recent_start = bn - (policy.recent_buckets - 1) * bs
    recent = _lines(series, recent_start, bn + bs)
    recent_rate = recent / policy.recent_buckets
    earlier_start = max(policy.bucket(first_t), bn - (keep - 1) * bs)
    slots = round((recent_start - earlier_start) / bs)
    earlier = _lines(series, earlier_start, recent_start) if slots > 0 else 0
    earlier_rate = earlier / slots if slots > 0 else None
    if novel and first_t >= now - keep * bs:
        status = "new"
    elif earlier_rate is None:
        status = "steady"
    elif recent >= RISE_MIN and recent_rate >= 2 * earlier_rate:
        status = "rising"
    elif earlier >= RISE_MIN and recent_rate <= earlier_rate / 2:
        status = "falling"
    else:
        status = "steady"
    return status, recent, recent_rate, earlier_rate


def pattern_query(query: Mapping[str, str]) -> dict[str, Any]:
    """The parameters of `GET /patterns/`, checked; ValueError names the first bad one."""
    unknown = sorted(set(query) - QUERY_PARAMS)
    if unknown:
        raise ValueError(f"unknown parameter {unknown[0]!r} (use {', '.join(sorted(QUERY_PARAMS))})")
    os_name, host = query.get("os", "").strip(), query.get("host", "").strip()
    if len(os_name) > MAX_NAME or len(host) > MAX_NAME:
        raise ValueError(f"os and host: at most {MAX_NAME} characters")
    if host and not os_name:
        raise ValueError("host needs os")
    status = query.get("status", "all")
    if status not in (*STATUSES, "all"):
        raise ValueError(f"status: one of {', '.join((*STATUSES, 'all'))}")
    try:
        offset, limit = int(query.get("offset", 0)), int(query.get("limit", 50))
    except ValueError:
        raise ValueError("offset and limit must be integers") from None
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"offset >= 0 and limit from 1 to {MAX_PAGE}")
    return {"os": os_name, "host": host or None, "status": status, "offset": offset, "limit": limit}


def pattern_rows(entries: Iterable[Mapping[str, Any]], now: float, policy: PatternPolicy,
                 host: str | None = None) -> list[dict[str, Any]]:
    """The patterns of one OS as a view lists them (of one host when `host` is given): new first,
    then rising, falling, steady; busiest first within each."""
    rows: list[dict[str, Any]] = []
    for raw in entries:
        entry = TemplateStats.from_dict(raw)
        counts = entry.overall() if host is None else entry.hosts.get(host)
        if counts is None:
            continue
        keep = policy.buckets if host is None else policy.host_buckets
        status, recent, recent_rate, earlier_rate = _trend(counts, entry.novel, now, keep, policy)
        rows.append({
            "template_id": entry.id, "template": entry.text, "status": status, "novel": entry.novel,
            "total": counts.total, "recent": recent, "recent_rate": round(recent_rate, 3),
            "earlier_rate": None if earlier_rate is None else round(earlier_rate, 3),
            "first_seen": counts.first_t, "last_seen": counts.last_t, "hosts": len(entry.hosts),
        })
    rows.sort(key=lambda r: (STATUSES.index(r["status"]), -int(r["recent"]), -int(r["total"]), r["template_id"]))
    return rows
