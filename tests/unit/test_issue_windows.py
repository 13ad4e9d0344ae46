"""Issue windows with an injected clock: closes exactly at the inactivity timeout, at the maximum
duration for a key that never goes quiet, and stays within its caps on a long replay."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from agents.issues_aggregator import Aggregator
from streamapp.clock import ManualClock
from streamapp.embedding import HashedTfidfEmbedder
from streamapp.issues import OpenIssue, partition_key
from streamapp.lines import LineProcessor
from streamapp.records import IssueEvents, ParsedEvent, RawLine
from streamapp.rules import RuleSet
from streamapp.settings import Settings
from streamapp.sources import SourceProfiles
from streamapp.worker.deps import Deps


class Sink:
    """Records what an agent sends to one topic (the unit under test is the window logic)."""

    def __init__(self) -> None:
        self.sent: list = []

    async def send(self, key: str, value: object) -> None:
        self.sent.append(value)


class Sinks:
    def __init__(self) -> None:
        self.issues_candidates, self.closed_issues, self.issue_events = Sink(), Sink(), Sink()


def make(clock: ManualClock, **overrides) -> tuple[Aggregator, Sinks]:
    settings = Settings(issue_inactivity_sec=30, issue_max_duration_sec=600, **overrides)
    sinks = Sinks()
    deps = Deps(app=None, settings=settings, topics=sinks, rules=RuleSet.load(),  # type: ignore[arg-type]
                embedder=HashedTfidfEmbedder(16), clock=clock)
    return Aggregator(deps, table={}), sinks  # type: ignore[arg-type]


def event(i: int, t: float, component: str = "kernel", severity: str = "error") -> ParsedEvent:
    return ParsedEvent(
        id=f"{1000 + i}-0", source="s", os="linux", host="h1", component=component, pid="", level="",
        timestamp="", t=t, template_id="t1", template="disk <*> failed", params=[str(i)], raw=f"disk {i} failed",
        severity=severity, signals=[{"rule": "disk-io-error", "severity": "error", "failure_type": "hardware_disk",
                                     "score": 0.8, "ignore": False}],
        src=0, off=i,  # read from `logs` partition 0 at offset i
    )


def due(agg: Aggregator, now: float) -> list[list]:
    """The sweep's decisions, flattened over partitions: [action, key, version, reason]."""
    return [a for cmd in agg.due(now).values() for a in cmd.actions]


async def run(agg: Aggregator, now: float) -> None:
    """Apply every sweep command due now (what the timer sends and the agent then processes)."""
    for cmd in agg.due(now).values():
        await agg.apply(cmd)


async def feed(agg: Aggregator, events: list[ParsedEvent]) -> None:
    key = partition_key(events[0])
    await agg.apply(IssueEvents(kind="lines", key="lines:0", groups={key: events}))


async def test_closes_exactly_after_inactivity_not_before() -> None:
    clock = ManualClock()
    agg, sinks = make(clock)
    await feed(agg, [event(0, clock.now())])
    clock.advance(20)
    await feed(agg, [event(1, clock.now())])  # activity restarts the timeout
    clock.advance(29.999)
    assert due(agg, clock.now()) == []
    clock.advance(0.001)
    (action,) = due(agg, clock.now())
    assert (action[0], action[3]) == ("close", "inactivity")
    assert sinks.issues_candidates.sent == []
    await run(agg, clock.now())
    (candidate,) = sinks.issues_candidates.sent
    assert candidate.line_count == 2 and candidate.issue_key == "linux|kernel|nopid"
    assert [c.emitted for c in sinks.closed_issues.sent] == [True]


async def test_a_key_that_never_goes_quiet_closes_at_max_duration() -> None:
    clock = ManualClock()
    agg, sinks = make(clock)
    for i in range(61):  # a line every 10 s, for 600 s
        await feed(agg, [event(i, clock.now())])
        actions = due(agg, clock.now())
        if i < 60:
            assert actions == [], f"closed early at {i * 10}s"
            clock.advance(10)
    (action,) = actions
    assert action[3] == "max_duration"
    await run(agg, clock.now())
    assert sinks.issues_candidates.sent[0].line_count == 61


async def test_a_stale_close_command_is_ignored() -> None:
    clock = ManualClock()
    agg, sinks = make(clock)
    await feed(agg, [event(0, clock.now())])
    clock.advance(31)
    commands = list(agg.due(clock.now()).values())
    await feed(agg, [event(1, clock.now())])  # a line arrives before the close is processed
    for cmd in commands:
        await agg.apply(cmd)
    assert sinks.issues_candidates.sent == [], "the issue saw new lines; the old close does not apply"


async def test_replayed_lines_and_closes_are_not_counted_twice() -> None:
    clock = ManualClock()
    agg, sinks = make(clock)
    batch = [event(i, clock.now()) for i in range(3)]
    await feed(agg, batch)
    await feed(agg, batch)  # at-least-once: the same lines again
    clock.advance(30)
    (cmd,) = agg.due(clock.now()).values()
    await agg.apply(cmd)
    await agg.apply(cmd)  # the close replayed
    ids = {c.id for c in sinks.issues_candidates.sent}
    assert len(ids) == 1 and sinks.issues_candidates.sent[0].line_count == 3


async def test_closed_issues_are_purged_after_the_grace_period() -> None:
    clock = ManualClock()
    agg, _ = make(clock, issue_purge_grace_sec=60)
    await feed(agg, [event(0, clock.now())])
    clock.advance(30)
    await run(agg, clock.now())
    clock.advance(59)
    assert due(agg, clock.now()) == []
    clock.advance(1)
    (purge,) = due(agg, clock.now())
    assert purge[0] == "purge"
    await run(agg, clock.now())
    assert agg.table == {} and agg.index == {}


@pytest.mark.slow
async def test_200k_generated_lines_stay_within_caps(shared_tools_dir: Path, loghub_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "gen.log"
    subprocess.run(
        [sys.executable, str(shared_tools_dir / "loggen.py"), "--data", str(loghub_dir), "--system", "Linux",
         "-n", "200000", "-o", str(out), "--seed", "7"], check=True, capture_output=True,
    )
    clock = ManualClock()
    cap_open, cap_sample, cap_lines = 100, 5, 300
    agg, sinks = make(clock, issue_max_open=cap_open, issue_sample_lines=cap_sample, issue_max_lines=cap_lines)
    processor = LineProcessor(SourceProfiles({"*": "linux"}), RuleSet.load())
    keys_seen: set[str] = set()
    max_open = 0
    with out.open() as fh:
        batch: list[RawLine] = []
        for n, raw in enumerate(fh):
            batch.append(RawLine(f"{n + 1}-0", "gen", raw.rstrip("\n")))
            if len(batch) == 1000:
                await replay_batch(agg, processor, batch, clock, keys_seen)
                batch = []
                await run(agg, clock.now())  # the sweep, every simulated second
                max_open = max(max_open, sum(1 for e in agg.index.values() if e.state == "open"))
                clock.advance(1)
    assert len(keys_seen) > 5 * cap_open, "the replay must have many more keys than the cap"
    assert max_open <= cap_open + 1000, max_open  # at most one batch of new keys above the cap
    for issue in map(OpenIssue.from_dict, agg.table.values()):
        assert len(issue.head) <= cap_sample and len(issue.tail) <= cap_sample
        assert issue.line_count <= cap_lines
        assert len(issue.template_counts) <= 50
    closed = sinks.closed_issues.sent
    assert any(c.close_reason == "capacity" for c in closed), "the open-issue cap was exercised"
    still_open = sum(i["line_count"] for i in agg.table.values() if i["state"] == "open")
    assert sum(c.line_count for c in closed) + still_open == 200_000
    print(f"keys {len(keys_seen)}, max open {max_open}, closed {len(closed)}")


async def replay_batch(agg, processor, batch, clock, keys_seen) -> None:  # type: ignore[no-untyped-def]
    groups: dict[str, list[ParsedEvent]] = {}
    for ev in processor.process(batch, clock.now()).events:
        ev.src, ev.off = 0, int(ev.id.split("-")[0])
        groups.setdefault(partition_key(ev), []).append(ev)
    keys_seen.update(groups)
    await agg.apply(IssueEvents(kind="lines", key="lines:0", groups=groups))


async def test_between_full_scans_an_issue_is_still_closed_at_its_deadline() -> None:
    clock = ManualClock()
    agg, _ = make(clock)
    await feed(agg, [event(0, clock.now())])
    assert agg.due(clock.now(), full=False) == {}  # scanned: the earliest deadline is 30 s away
    clock.advance(5)
    await feed(agg, [event(1, clock.now(), component="sshd")])  # a new issue, due at 35
    clock.advance(24.9)
    assert agg.due(clock.now(), full=False) == {}
    clock.advance(0.1)
    assert [a[3] for a in due_lazily(agg, clock.now())] == ["inactivity"]
    clock.advance(5)
    assert [a[1] for a in due_lazily(agg, clock.now())] == ["linux|h1|sshd|nopid"]


def due_lazily(agg: Aggregator, now: float) -> list[list]:
    commands = agg.due(now, full=False)
    for cmd in commands.values():  # as the timer does: commands sent are not asked again
        for _, key, version, _ in cmd.actions:
            agg._asked[key] = version
    return [a for cmd in commands.values() for a in cmd.actions]


class HeldSink(Sink):
    """A topic whose sends wait until released (a slow producer)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def send(self, key: str, value: object) -> None:
        await self.release.wait()
        await super().send(key, value)


async def test_a_commit_during_a_batch_does_not_write_its_closes_before_their_sends() -> None:
    clock = ManualClock()
    agg, sinks = make(clock)
    await feed(agg, [event(0, clock.now())])
    clock.advance(30)
    (cmd,) = agg.due(clock.now()).values()
    sinks.issues_candidates = held = HeldSink()
    closing = asyncio.create_task(agg.apply_all([cmd]))
    await asyncio.sleep(0.01)  # the batch now waits for its candidate's send
    agg.flush()  # what a commit does meanwhile
    assert [i["state"] for i in agg.table.values()] == ["open"], "closed before the candidate was sent"
    held.release.set()
    await closing
    agg.flush()
    assert [i["state"] for i in agg.table.values()] == ["closed"] and len(held.sent) == 1
