"""Template patterns, pure: warm-up, novelty (not for renamed templates or known families), rate
jumps against a template's own baseline, replays counted once, bounds with their counters, the
new / rising / falling view; and the signals landing on the open issue."""

from __future__ import annotations

from itertools import count
from typing import Any

from streamapp.clock import ManualClock
from streamapp.issues import partition_key
from streamapp.mining import TemplateChange
from streamapp.patterns import (
    NOVEL,
    RATE,
    PatternPolicy,
    evict,
    observe,
    os_prefix,
    pattern_counts,
    pattern_rows,
    template_key,
)
from streamapp.records import IssueEvents, ParsedEvent, PatternCounts
from streamapp.telemetry import HEALTH_VALUES
from tests.unit.test_issue_windows import event, feed, make, run

POLICY = PatternPolicy(bucket_sec=10, buckets=30, host_buckets=6, warmup_sec=100, warmup_lines=50, rate_factor=5,
                       rate_min=20, baseline_buckets=5, recent_buckets=3, max_templates=10, max_hosts=3)
OFFSETS = count()


class Book:
    """The table: a dict the agent's writes and deletes go to."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def feed(self, t: float, lines: list[tuple[str, str]], renamed: list | None = None,
             offsets: list[int] | None = None) -> list:
        """Lines (template text, host) of OS `linux` at time t; returns the signals."""
        offs = offsets if offsets is not None else [next(OFFSETS) for _ in lines]
        batch = PatternCounts(
            os="linux", t=t, templates={f"id:{text}": text for text, _ in lines}, renamed=renamed or [],
            rows=[[f"id:{text}", host, f"linux|{host}|app|nopid", 0, off]
                  for (text, host), off in zip(lines, offs, strict=True)],
        )
        obs = observe(self, batch, POLICY)
        self.data.update(obs.writes)
        for key in obs.deletes:
            del self.data[key]
        if obs.over:
            gone, book = evict([(k, v) for k, v in self.data.items() if k.startswith(os_prefix("linux"))], "linux",
                               POLICY)
            for key in gone:
                del self.data[key]
            self.data["linux\x00book"] = book
        return obs.signals

    def stats(self, text: str) -> dict:
        return self.data[template_key("linux", f"id:{text}")]


def warmed() -> Book:
    book = Book()
    for i in range(12):  # 120 s of routine templates, 5 and 1 lines per 10 s
        routine = [("session opened for user root", "h1")] * 5 + [("worker <*> restarted", "h1")]
        assert book.feed(i * 10.0, routine) == []
    book.feed(5.0, [("cron job <*> started", "h2")])  # seen in the warm-up: never novel
    book.feed(6.0, [("link eth0 down", "h1")])
    return book


def test_a_template_never_seen_after_warm_up_is_novel() -> None:
    book = warmed()
    (sig,) = book.feed(130.0, [("disk quota exceeded on <*>", "h1")] * 3 + [("cron job <*> started", "h3")])
    assert (sig.rule, sig.template, sig.count, sig.keys) == (NOVEL, "disk quota exceeded on <*>", 3,
                                                             ("linux|h1|app|nopid",))
    assert sig.os_templates == 5 and sig.as_json()["template_id"] == "id:disk quota exceeded on <*>"
    assert book.feed(131.0, [("disk quota exceeded on <*>", "h2")]) == [], "novel once"
    # A known template with a value another worker's miner did not mask is the same family: not new.
    assert book.feed(132.0, [("link eth3 down", "h1")]) == []
    assert not book.stats("link eth3 down")["novel"]
    # A sibling the miner has not merged yet (a value it did not mask) is new on the view, not signalled.
    assert book.feed(132.5, [("disk quota exceeded on sda1", "h1")]) == []
    assert book.stats("disk quota exceeded on sda1")["novel"]
    # A template the miner generalised keeps the history of the one it replaced.
    renamed = [["id:session opened for user root", "id:session opened for user <*>"]]
    assert book.feed(133.0, [("session opened for user <*>", "h1")], renamed=renamed) == []
    assert book.stats("session opened for user <*>")["total"] == 61
    assert template_key("linux", "id:session opened for user root") not in book.data, "moved, not copied"
    # Lines the miner generalised within the batch count under the template they ended with.
    (sig,) = book.feed(134.0, [("quota exceeded for vol7", "h1"), ("quota exceeded for vol<*>", "h1")] * 2,
                       renamed=[["id:quota exceeded for vol7", "id:quota exceeded for vol<*>"]])
    assert (sig.template, sig.count) == ("quota exceeded for vol<*>", 4)
    assert template_key("linux", "id:quota exceeded for vol7") not in book.data


def test_a_rate_far_above_the_templates_own_baseline_is_signalled_once_per_bucket() -> None:
    book = warmed()
    assert book.feed(125.0, [("session opened for user root", "h1")] * 19) == [], "below rate_min"
    (sig,) = book.feed(126.0, [("session opened for user root", "h1")] * 11)  # 30 in this bucket, 5 before
    assert (sig.rule, sig.count, sig.baseline, sig.bucket_sec) == (RATE, 30, 5.0, 10)
    assert book.feed(127.0, [("session opened for user root", "h1")] * 40) == [], "once per bucket"
    assert book.feed(140.0, [("session opened for user root", "h1")] * 22) == [], "22 < 5 x the new baseline"


def test_replays_count_once_and_bounds_count_what_they_drop() -> None:
    book = warmed()
    lines = [("disk <*> failed", f"h{i}") for i in range(5)]
    offsets = [next(OFFSETS) for _ in lines]
    assert len(book.feed(130.0, lines, offsets=offsets)) == 1
    assert book.feed(131.0, lines, offsets=offsets) == [], "a redelivered batch"
    stats = book.stats("disk <*> failed")
    assert stats["total"] == 5 and sorted(stats["hosts"]) == ["h0", "h1", "h2"], "max_hosts"
    assert book.get("linux\x00book")["dropped_host_lines"] == 2
    for i in range(10):  # past max_templates: the least recently seen go
        book.feed(140.0 + i, [(f"event kind{chr(97 + i)} happened", "h1")])
    templates = [k for k in book.data if k.startswith("linux\x00t\x00")]
    assert len(templates) <= POLICY.max_templates and book.get("linux\x00book")["dropped_templates"] == 15 - 9
    assert template_key("linux", "id:cron job <*> started") not in book.data, "the oldest went first"


def test_the_view_lists_new_rising_and_falling_patterns() -> None:
    book = warmed()
    for i in range(8):
        book.feed(130.0 + i * 10, [("worker <*> restarted", "h1")] * (1 if i < 5 else 4))
    book.feed(200.0, [("disk quota exceeded on <*>", "h2")])
    entries = [v for k, v in book.data.items() if k.startswith("linux\x00t\x00")]
    rows = {r["template"]: r for r in pattern_rows(entries, now=209.0, policy=POLICY)}
    assert rows["disk quota exceeded on <*>"]["status"] == "new"
    assert rows["worker <*> restarted"]["status"] == "rising"
    assert rows["session opened for user root"]["status"] == "falling", "silent since 120 s"
    assert pattern_rows(entries, 209.0, POLICY)[0]["status"] == "new", "new first"
    on_h2 = pattern_rows(entries, 209.0, POLICY, host="h2")
    assert [r["template"] for r in on_h2] == ["disk quota exceeded on <*>", "cron job <*> started"]


def test_the_consumer_sends_one_record_per_os() -> None:
    def ev(i: int, os_name: str, tid: str) -> ParsedEvent:
        return ParsedEvent(id=f"{i}-0", source="s", os=os_name, host="h", component="c", pid="1", level="",
                           timestamp="", t=1.0, template_id=tid, template=f"text {tid}", params=[], raw="r", src=2,
                           off=i)

    records, too_big = pattern_counts([ev(1, "linux", "a"), ev(2, "mac", "b"), ev(3, "linux", "a")],
                                      ("os", "host", "component", "pid"), {"linux": [TemplateChange("x", "a")]}, 5.0)
    linux = next(r for r in records if r.os == "linux")
    assert len(records) == 2 and linux.templates == {"a": "text a"} and linux.renamed == [["x", "a"]]
    assert linux.rows == [["a", "h", "linux|h|c|1", 2, 1], ["a", "h", "linux|h|c|1", 2, 3]] and too_big == 0


def test_a_batch_too_large_for_one_record_is_cut_in_logs_order_and_counts_the_same() -> None:
    """A backlog makes consumer batches large; no record may exceed the broker's limit, and the agent
    (which skips rows at or below a partition's high-water mark) must count every line once."""
    def ev(i: int, part: int) -> ParsedEvent:
        return ParsedEvent(id=f"{i}-0", source="s", os="linux", host=f"h{i % 7}", component="c", pid=str(i),
                           level="", timestamp="", t=1.0, template_id=f"t{i % 5}", template=f"text {i % 5} " * 20,
                           params=[], raw="r", src=part, off=1000 - i if part else i)

    events = [ev(i, i % 2) for i in range(400)]  # two partitions interleaved, one listed newest first
    changes = {"linux": [TemplateChange("old", "t1")]}
    whole, _ = pattern_counts(events, ("os", "host", "component", "pid"), changes, 5.0)
    records, too_big = pattern_counts(events, ("os", "host", "component", "pid"), changes, 5.0, max_bytes=4_000)
    assert len(whole) == 1 and len(records) > 5 and too_big == 0
    assert all(len(r.dumps()) <= 4_000 and r.renamed == [["old", "t1"]] for r in records)
    for part in (0, 1):  # each partition's positions rise across the records, as the agent needs
        offs = [row[4] for r in records for row in r.rows if row[3] == part]
        assert offs == sorted(offs) and len(offs) == 200
    assert all(set(r.templates) == {row[0] for row in r.rows} for r in records)

    def counted(batches: list[PatternCounts]) -> dict[str, int]:
        book = Book()
        for batch in batches:
            obs = observe(book, batch, PatternPolicy())
            book.data.update(obs.writes)
            for key in obs.deletes:
                del book.data[key]
        return {k: v["total"] for k, v in book.data.items() if k.startswith(template_key("linux", ""))}

    assert counted(records) == counted(whole) and sum(counted(whole).values()) == 400


async def test_signals_land_on_the_open_issue_once() -> None:
    clock = ManualClock()
    agg, sinks = make(clock)
    ev = event(0, clock.now(), severity="info")
    ev.signals = []
    await feed(agg, [ev])
    key = partition_key(ev)
    novel = {"rule": NOVEL, "template_id": "t1", "template": "disk <*> failed", "count": 1, "t": 1.0,
             "baseline": 0.0, "os_templates": 40, "bucket_sec": 0.0}
    for _ in range(2):  # the command redelivered
        await agg.apply(IssueEvents(kind="signals", key="signals:0", groups={key: [novel]}))
    clock.advance(31)
    await run(agg, clock.now())
    (candidate,) = sinks.issues_candidates.sent
    assert candidate.pattern_signals == [novel] and {"rule": NOVEL, "hits": 1} in candidate.signals

    def late() -> float:
        return sum(v for v, _ in HEALTH_VALUES.read("streamapp.patterns.signals_late"))

    before = late()
    await agg.apply(IssueEvents(kind="signals", key="signals:0", groups={key: [novel]}))  # after it closed
    assert late() == before + 1
