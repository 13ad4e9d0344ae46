"""Template parameters marked in log lines, and the per-minute chart's geometry (pure)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamapp.console.chart import per_minute_chart
from streamapp.console.highlight import MAX_CHARS, parameter_spans, segments
from tests.support.budget import CpuMeter

SSH = ("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh "
       "ruser= rhost=218.188.2.4 ")


def params(template: str, text: str) -> list[str]:
    return [piece for piece, is_param in segments(template, text) if is_param]


def test_wildcards_in_the_message_after_a_syslog_header() -> None:
    tpl = "authentication failure; logname= uid=<*> euid=<*> tty=NODEVssh ruser= rhost=<*>"
    assert params(tpl, SSH) == ["0", "0", "218.188.2.4"]
    assert "".join(piece for piece, _ in segments(tpl, SSH)) == SSH, "nothing is lost or added"


def test_a_wildcard_spans_tokens_up_to_the_next_constant() -> None:
    assert params("session opened for user <*> by <*>", "session opened for user root by (uid=0)") == [
        "root", "(uid=0)"]
    assert params("connection from <*> at <*>", "connection from 10.0.0.1 (host.example) at Sun Jul 10 2005") == [
        "10.0.0.1 (host.example)", "Sun Jul 10 2005"]


def test_values_glued_to_constants() -> None:
    assert params("ALERT exited abnormally with [<*>]", "ALERT exited abnormally with [1]") == ["1"]
    assert params("node-<*> failed", "node-12 failed") == ["12"]


def test_no_match_means_plain_text() -> None:
    assert segments("disk <*> failed", "completely different line") == [("completely different line", False)]
    assert segments("", "a line") == [("a line", False)]
    assert segments("no wildcard here", "no wildcard here") == [("no wildcard here", False)]
    assert parameter_spans("x <*>", "x " + "a" * MAX_CHARS) == [], "very long lines are not scanned"


def test_markup_in_a_line_stays_text() -> None:
    line = 'crash in <script>alert(1)</script> "><img src=x onerror=alert(2)>'
    pieces = segments('crash in <*> "><img src=x onerror=alert(<*>)>', line)
    assert "".join(p for p, _ in pieces) == line
    assert [p for p, is_param in pieces if is_param] == ["<script>alert(1)</script>", "2"]


@pytest.fixture(scope="module")
def meter() -> Iterator[CpuMeter]:
    m = CpuMeter()
    yield m
    m.close()


def test_a_token_of_wildcards_takes_linear_time_on_a_long_word(meter: CpuMeter) -> None:
    """`<*>:<*>:<*>:<*>;` as lazy groups in Python's `re` took seconds on a 400-character word."""
    line = "host " + ":" * (MAX_CHARS - 5)
    cpu = meter.cpu("streamapp.console.highlight:parameter_spans", "host <*>:<*>:<*>:<*>;", line)
    assert cpu < 0.5
    assert params("host <*>:<*>:<*>;", "host 1:2:3;") == ["1", "2", "3"]


@given(st.text(max_size=200), st.text(max_size=80))
def test_pieces_always_rebuild_the_line(line: str, template: str) -> None:
    pieces = segments(template + " <*>", line)
    assert "".join(p for p, _ in pieces) == line
    for a, b in parameter_spans(template + " <*>", line):
        assert 0 <= a < b <= len(line)


def test_chart_geometry() -> None:
    chart = per_minute_chart({100: 4, 129: 10}, {129: 1500}, last_minute=129, minutes=30)
    assert len(chart.bars) == 30 and chart.alerts_max == 10 and chart.lines_max == 2000
    tallest = chart.bars[-1]
    assert tallest.y == chart.plot_top and tallest.y + tallest.h == chart.plot_bottom
    assert chart.bars[0].h == (chart.plot_bottom - chart.plot_top) * 4 / 10
    assert chart.bars[1].h == 0
    assert len(chart.line_points.split()) == 30
    assert chart.ticks[0].label == "01:40" and chart.ticks[-1].label == "02:09"
    empty = per_minute_chart({}, {}, last_minute=129, minutes=30)
    assert empty.alerts_max == 1 and all(b.h == 0 for b in empty.bars)
