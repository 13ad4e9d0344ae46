"""The inbound bridge's pure rules: poison detection, partition keys, and the safe trim point."""

from __future__ import annotations

import pytest

from streamapp.errors import PoisonInput
from streamapp.intake import GroupState, decode_entry, parse_id, partition_key, preview, trim_point


def test_good_entry_becomes_a_line() -> None:
    line = decode_entry("5-1", {b"source": b"Linux.log", b"line": "é ok".encode(), b"source_id": b"9"}, 1024)
    assert (line.id, line.source, line.line, line.source_id) == ("5-1", "Linux.log", "é ok", "9")


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({b"source": b"s", b"line": b"\xc3\x28"}, "invalid UTF-8"),
        ({b"source": b"s", b"line": b"x" * 2000}, "too large"),
        ({b"source": b"s"}, "missing field 'line'"),
    ],
)
def test_poison_is_rejected_with_a_reason(fields, reason) -> None:
    with pytest.raises(PoisonInput, match=reason) as err:
        decode_entry("1-0", fields, 1024)
    assert err.value.record_id == "1-0"


def test_preview_is_printable_and_bounded() -> None:
    text = preview({b"line": b"\xff" * 5000}, limit=100)
    assert "\\xff" in text and len(text) < 200


def test_partition_key_keeps_a_source_together() -> None:
    a = decode_entry("1-0", {b"source": b"web-01.log", b"line": b"a"}, 100)
    b = decode_entry("2-0", {b"source": b"web-01.log", b"line": b"b"}, 100)
    assert partition_key(a) == partition_key(b) == "web-01.log"


def group(last: str, pending: int = 0, lowest: str | None = None) -> GroupState:
    return GroupState("g", parse_id(last), pending, parse_id(lowest) if lowest else None)


def test_trim_point_is_the_oldest_unacknowledged_entry_of_any_group() -> None:
    now = 10_000_000
    groups = [group("900-0"), group("950-3", pending=2, lowest="400-1")]
    assert trim_point(groups, now_ms=now, retain_ms=0) == (400, 1)


def test_trim_point_respects_retention_and_empty_groups() -> None:
    assert trim_point([], now_ms=5000, retain_ms=0) is None
    assert trim_point([group("0-0")], now_ms=5000, retain_ms=0) is None
    assert trim_point([group("4000-0")], now_ms=5000, retain_ms=3000) == (2000, 0)
