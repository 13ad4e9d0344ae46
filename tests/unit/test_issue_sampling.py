"""What an issue keeps of its lines, however they are batched: the first lines in `head`, the last
ones after them in `tail`, replayed lines in neither; the worst severity; noise never raises it."""

from __future__ import annotations

import pytest

from streamapp.issues import IssuePolicy, absorb
from streamapp.records import ParsedEvent

POLICY = IssuePolicy(sample_head=10, sample_tail=10)


def event(i: int, severity: str = "info", signals: list | None = None) -> ParsedEvent:
    return ParsedEvent(
        id=f"{i}-0", source="s", os="linux", host="h", component="c", pid="", level="", timestamp="", t=float(i),
        template_id="t", template="x <*>", params=[str(i)], raw=f"x {i}", severity=severity,
        signals=signals or [], src=0, off=i,
    )


@pytest.mark.parametrize("cuts", [[35], [1] * 35, [25, 7, 3], [9, 2, 24], [12, 12, 11]])
def test_head_and_tail_do_not_depend_on_how_lines_were_batched(cuts: list[int]) -> None:
    lines, issue, start = [event(i) for i in range(35)], None, 0
    for n in cuts:
        issue, rest = absorb(issue, "k", lines[start : start + n], float(start), POLICY)
        assert rest == []
        start += n
    assert issue is not None and issue.line_count == 35
    assert [x["id"] for x in issue.head] == [f"{i}-0" for i in range(10)]
    assert [x["id"] for x in issue.tail] == [f"{i}-0" for i in range(25, 35)]


def test_a_short_issue_has_an_empty_tail_and_replays_are_not_sampled_again() -> None:
    issue, _ = absorb(None, "k", [event(i) for i in range(4)], 0.0, POLICY)
    issue, _ = absorb(issue, "k", [event(i) for i in range(6)], 1.0, POLICY)  # 0-3 again, then 4, 5
    assert issue.line_count == 6 and [x["id"] for x in issue.head] == [f"{i}-0" for i in range(6)]
    assert issue.tail == []


def test_the_worst_severity_wins_and_ignored_noise_does_not_count() -> None:
    noise = [{"rule": "benign", "severity": "critical", "failure_type": "", "score": 0.1, "ignore": True}]
    issue, _ = absorb(None, "k", [event(0, "warning"), event(1, "critical", noise), event(2, "info")], 0.0, POLICY)
    assert issue.severity == "warning" and issue.interesting
    issue, _ = absorb(issue, "k", [event(3, "error")], 1.0, POLICY)
    assert issue.severity == "error"


def test_a_sampled_line_carries_its_reading_when_a_masked_value_says_something() -> None:
    """The classifier reads an issue's lines as their templates; a masked state word is put back."""
    down = ParsedEvent(
        id="1-0", source="s", os="ios", host="h", component="LINK", pid="", level="", timestamp="", t=1.0,
        template_id="t", template="Interface <*>, changed state to <*>", params=["Gi1/0/14", "down"],
        raw="Interface Gi1/0/14, changed state to down", src=0, off=1,
    )
    issue, _ = absorb(None, "k", [down, event(2)], 0.0, POLICY)
    assert issue is not None
    assert issue.head[0]["read"] == "Interface <*>, changed state to down"
    assert "read" not in issue.head[1]  # `x <*>` with a number: the template says it all
