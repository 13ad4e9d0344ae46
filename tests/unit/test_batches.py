"""The batched hot path's records and how batches are cut: a record per partition per batch, in
order, under the broker's size limit; the encodings pinned."""

from __future__ import annotations

import dataclasses

import orjson
import pytest

from streamapp.batches import event_records, fit, line_records
from streamapp.records import (
    LINES_PER_RECORD,
    IssueEvents,
    LineBatch,
    LogLine,
    ParsedEvent,
    RawLine,
    line_position,
)


def event(i: int, key: str = "h1", raw: str = "x") -> ParsedEvent:
    return ParsedEvent(
        id=f"{i}-0", source="s", os="linux", host=key, component="c", pid="", level="", timestamp="", t=1.0,
        template_id="t", template="x <*>", params=[str(i)], raw=raw, src=0, off=i,
    )


def test_raw_line_has_the_fields_of_log_line() -> None:
    assert [f.name for f in dataclasses.fields(RawLine)] == list(LogLine._options.fields)


def test_line_batch_encoding_is_pinned() -> None:
    batch = LineBatch([RawLine("1-0", "web.log", "hello", "7"), RawLine("2-0", "db.log", "bye")])
    assert orjson.loads(batch.dumps()) == {"lines": [["1-0", "web.log", "hello", "7"], ["2-0", "db.log", "bye", ""]]}
    assert LineBatch.loads(batch.dumps()) == batch


def test_issue_events_encoding_is_pinned() -> None:
    cmd = IssueEvents(kind="lines", key="lines:0", groups={"k": [event(1), event(2)]})
    raw = orjson.loads(cmd.dumps())
    assert set(raw) == {"kind", "key", "fields", "groups", "actions"}
    assert raw["fields"] == [f.name for f in dataclasses.fields(ParsedEvent)]
    row = dict(zip(raw["fields"], raw["groups"]["k"][0], strict=True))
    assert row["id"] == "1-0" and row["params"] == ["1"] and row["off"] == 1
    back = IssueEvents.loads(cmd.dumps())
    assert back == cmd and back.line_ids() == ["1-0", "2-0"]
    sweep = IssueEvents(kind="sweep", key="sweep:1", actions=[["close", "k", 3, "inactivity"]])
    assert IssueEvents.loads(sweep.dumps()).actions == [["close", "k", 3, "inactivity"]]
    assert IssueEvents.loads(sweep.dumps()).line_ids() == []


def test_events_from_a_producer_with_other_fields_are_read_by_name() -> None:
    raw = orjson.loads(IssueEvents(kind="lines", key="lines:0", groups={"k": [event(1)]}).dumps())
    raw["fields"] = ["novelty", *raw["fields"]]  # a newer producer's extra field, first
    raw["groups"]["k"][0] = [0.9, *raw["groups"]["k"][0]]
    assert IssueEvents.loads(orjson.dumps(raw)).groups["k"][0] == event(1)


def test_other_kinds_keep_their_groups_as_sent() -> None:
    cmd = IssueEvents(kind="signals", key="signals:0", groups={"k": [{"rule": "novel"}]})
    back = IssueEvents.loads(cmd.dumps())
    assert back.groups == {"k": [{"rule": "novel"}]} and back.line_ids() == []


@pytest.mark.parametrize("bad", [b"not json", b"{}", b'{"lines": [[1]]}'])
def test_malformed_batches_raise_what_the_consumer_parks(bad: bytes) -> None:
    with pytest.raises((ValueError, TypeError, KeyError)):
        LineBatch.loads(bad)


def test_line_positions_grow_with_offset_then_index() -> None:
    assert line_position(5, LINES_PER_RECORD - 1) < line_position(6, 0)
    assert line_position(6, 0) < line_position(6, 1)


def test_one_record_per_partition_with_each_sources_lines_in_order() -> None:
    lines = [RawLine(f"{i}-0", f"src-{i % 3}", f"line {i}") for i in range(30)]
    part = {"src-0": 0, "src-1": 1, "src-2": 1}
    records, too_big = line_records(lines, lambda x: part[x.source])
    assert not too_big
    assert [p for p, _, _ in records] == [0, 1]
    for p, xs, data in records:
        assert LineBatch.loads(data).lines == xs
        assert xs == [x for x in lines if part[x.source] == p], "Redis order kept within a partition"


def test_a_batch_over_the_size_limit_is_cut_in_order_and_a_line_too_big_alone_is_returned() -> None:
    lines = [RawLine(f"{i}-0", "s", "y" * 100) for i in range(50)]
    lines.insert(20, RawLine("big-0", "s", "z" * 5000))
    records, too_big = line_records(lines, lambda x: 0, max_bytes=1000)
    assert [x.id for x in too_big] == ["big-0"]
    assert all(len(data) <= 1000 for _, _, data in records)
    assert [x for _, xs, _ in records for x in xs] == [x for x in lines if x.id != "big-0"]


def test_fit_encodes_a_batch_that_fits_once() -> None:
    calls = []

    class Run:
        def __init__(self, xs: list[int]) -> None:
            self.xs = xs

        def dumps(self) -> bytes:
            calls.append(len(self.xs))
            return bytes(len(self.xs))

    records, _ = fit(list(range(100)), Run, max_bytes=100)
    assert calls == [100] and len(records) == 1


def test_events_are_grouped_by_key_within_their_partition() -> None:
    events = [event(i, key=f"h{i % 4}") for i in range(40)]
    records, too_big = event_records(events, lambda ev: ev.host, lambda key: int(key[1]) % 2)
    assert not too_big
    assert sorted(p for p, _, _ in records) == [0, 1]
    for p, cmd, data in records:
        assert cmd.key == f"lines:{p}" and IssueEvents.loads(data) == cmd
        assert set(cmd.groups) == {k for k in ("h0", "h1", "h2", "h3") if int(k[1]) % 2 == p}
        for key, evs in cmd.groups.items():
            assert evs == [ev for ev in events if ev.host == key], "a key's lines in their order"


def test_a_partitions_events_over_the_limit_go_in_several_records_in_order() -> None:
    events = [event(i, key="h0", raw="r" * 200) for i in range(60)]
    records, too_big = event_records(events, lambda ev: ev.host, lambda key: 0, max_bytes=5000)
    assert not too_big and len(records) > 1
    assert [e for _, cmd, _ in records for e in cmd.groups["h0"]] == events
