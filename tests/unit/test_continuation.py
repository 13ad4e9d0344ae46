"""Context lines stay with their headline: register dumps, stack frames and indented or headerless
lines join the issue of the line that opened their event, and only within their event."""

from __future__ import annotations

from collections import defaultdict

from streamapp.continuation import MAX_CONTEXT_CHARS, MAX_RUN, is_dump
from streamapp.issues import IssuePolicy, absorb, partition_key
from streamapp.lines import LineProcessor
from streamapp.records import LogLine, ParsedEvent
from streamapp.rules import RuleSet
from streamapp.sources import SourceProfiles

RULES = RuleSet.load()
LOOSE = "<Date> <Time> <Level> <Component>: <Content>"  # a format string loose enough to match a dump


def run(lines: list[tuple[str, str]], t: float = 100.0, processor: LineProcessor | None = None) -> list[ParsedEvent]:
    processor = processor or LineProcessor(SourceProfiles({"app.log": f"java:{LOOSE}", "*": "linux"}), RULES)
    batch = [LogLine(id=f"{i}-0", source=source, line=text) for i, (source, text) in enumerate(lines)]
    return processor.process(batch, t).events


def issues(events: list[ParsedEvent]) -> dict[str, list[str]]:
    """Line ids per issue, as the aggregator files them."""
    by_key: dict[str, list[ParsedEvent]] = defaultdict(list)
    for ev in events:
        by_key[partition_key(ev)].append(ev)
    built = {key: absorb(None, key, evs, 0.0, IssuePolicy())[0] for key, evs in by_key.items()}
    return {key: [line["id"] for line in issue.head] for key, issue in built.items()}


def test_a_register_dump_joins_its_headlines_issue() -> None:
    events = run([
        ("k.log", "Jun 14 15:16:01 node-1 kernel: BUG: unable to handle kernel NULL pointer dereference at 0000000008"),
        ("k.log", "RAX: 0000000000000000 RBX: ffff88003a7b4000 RCX: 0000000000000000"),  # no header at all
        ("k.log", "Jun 14 15:16:01 node-2 sshd[7]: Accepted publickey for deploy from 10.0.0.9 port 50022"),
        ("k.log", "Jun 14 15:16:01 node-1 kernel: R13: 0000000000000001 R14: ffff88003a7b4000 R15: 0000000000000000"),
        ("app.log", "2024-05-01 10:00:00 ERROR OrderService: payment call failed"),
        ("app.log", "java.net.ConnectException: Connection refused"),
        ("app.log", "\tat com.example.pay.Client.call(Client.java:42)"),
        ("app.log", "RAX: 0000000000000000 RBX: ffff88003a7b4000 RCX: 0000000000000000 RDX: 00000000000000ff"),
    ])
    grouped = issues(events)
    kernel = next(ids for key, ids in grouped.items() if key.startswith("linux|node-1|kernel"))
    assert kernel == ["0-0", "1-0", "3-0"], "the dump lines are in the oops's issue, not one of their own"
    app = next(ids for key, ids in grouped.items() if key.startswith("java|-|orderservice"))
    assert app == ["4-0", "5-0", "6-0", "7-0"], "the trace and a dump the format took for a header"
    assert len(grouped) == 3, grouped  # node-1 kernel, node-2 sshd, the app's event
    assert events[1].headline == "0-0" and events[7].headline == "4-0" and not events[2].headline
    assert events[5].level == "ERROR", "a headerless line takes its headline's level"
    assert events[7].template.startswith("RAX:"), "mined as the whole line, not what followed a false header"


def test_continuations_only_within_their_event() -> None:
    processor = LineProcessor(SourceProfiles({"*": "linux"}), RULES)
    head = "Jun 14 15:16:01 node-1 kernel: Oops: 0002 [#1] SMP"
    dump = "RAX: 0000000000000000 RBX: ffff88003a7b4000"
    first = run([("a.log", dump), ("a.log", head), ("b.log", dump)], processor=processor)
    assert [e.headline for e in first] == ["", "", ""], "nothing before it, or another source"
    late = run([("a.log", dump)], t=100.0 + 11, processor=processor)  # the event ended 11 s ago
    assert late[0].headline == ""
    other_host = run([("a.log", head), ("a.log", "Jun 14 15:16:01 node-9 kernel: " + dump)], processor=processor)
    assert other_host[1].headline == ""
    long = run([("a.log", head)] + [("a.log", dump)] * (MAX_RUN + 1), processor=processor)
    assert sum(bool(e.headline) for e in long) == MAX_RUN, "a run is bounded"
    payload = run([("a.log", head), ("a.log", "  " + "x" * MAX_CONTEXT_CHARS)], processor=processor)
    assert payload[1].headline == "", "a line of many kilobytes is a record of its own"


def test_dumps_are_values_without_verbs() -> None:
    assert is_dump("r00=0x00000000 r01=0x1eadbeef r02=0x00000003")
    assert is_dump("CR2: 0000000000000008 CR3: 000000003a0e4000 CR4: 00000000000406e0")
    assert not is_dump("eth0: link up, speed=1000 duplex=full")
    assert not is_dump("status: failed to open device sda")
    assert not is_dump("RAX: 0000000000000000")  # one pair alone says too little
