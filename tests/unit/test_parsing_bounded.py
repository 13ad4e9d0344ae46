"""Header parsing takes bounded time on any line: random lines up to 64 KiB through every preset and
random Loghub format strings, each parsed in a child process against a per-line CPU budget (the
child is killed past a generous wall-clock limit, so a backtracking matcher fails instead of hanging
the suite). The linear-time matcher keeps the Loghub format semantics: it is compared with the
Python regex the Loghub convention describes, on lines short enough for that regex to be quick."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from streamapp.errors import ConfigError
from streamapp.parsing import PRESETS, LineFormat, ParsedLine, parse_line
from streamapp.parsing.fields import assemble, unmatched
from streamapp.parsing.formats import HEADER_MAX_CHARS
from tests.support.budget import CpuMeter

MAX_LINE = 64 * 1024
CPU_BUDGET_SEC = 0.5  # per line; the linear matcher needs a few milliseconds for 64 KiB
WALL_LIMIT_SEC = 20.0  # past this the child is deemed stuck (a backtracking matcher takes hours)

# Pieces of Loghub formats: fields, the text between them (a regex), optional bracketed fields.
_SEPARATORS = [" ", "  ", ": ", ", ", " - ", r"\|", r"\[", r"\] ", "@", ":", r"\s", r"\d+ ", r"\w*", r"[^\s]?", "/"]
_NAMES = ["Date", "Time", "Level", "Component", "Pid", "Node", "Host", "Id", "Flag", "State"]
# Line material: words, the separators' characters, digits, Unicode spaces and letters.
_TOKENS = [
    "word", "INFO", "081109", "203615", "148", "dfs.DataNode$PacketResponder", " ", "  ", ":", ": ", "[", "]",
    "|", "-", ",", "@", "/", "\t", "\u00a0", "\u2003", "é", "١٢", "(", ")", "\\", '"', "=", "{", "}", "x=1",
    'k="v', "Jun 14 15:16:01", "2016-09-28 04:30:30", "<13>",
]


@st.composite
def loghub_specs(draw: st.DrawFn) -> str:
    """A format string: fields (some optional, in a bracketed group) joined by separators; mostly
    ending in `<Content>` (the rest of the line), sometimes with text after the last field."""
    names = draw(st.lists(st.sampled_from(_NAMES), min_size=0, max_size=7, unique=True))
    out = [draw(st.sampled_from(["", r"\[", "-"]))]
    for name in names:
        piece = f"<{name}>"
        if draw(st.booleans()) and draw(st.booleans()):
            piece = rf"(\[{piece}\])?"
        out.append(piece + draw(st.sampled_from(_SEPARATORS)))
    out.append("<Content>" if draw(st.integers(0, 5)) else "<Content>" + draw(st.sampled_from(_SEPARATORS)))
    return "".join(out)


# A line up to 64 KiB: a motif repeated (where backtracking hurts most) to a size, then a tail;
# drawn as these three, so a failure reports them rather than 64 KiB of text.
_MOTIFS = st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=30).map("".join)
_TAILS = st.lists(st.sampled_from(_TOKENS), max_size=10).map("".join)


def long_line(motif: str, size: int, tail: str) -> str:
    return ((motif * (size // len(motif) + 1))[: max(0, size - len(tail))] + tail)[:MAX_LINE]


@pytest.fixture(scope="module")
def meter() -> Iterator[CpuMeter]:
    m = CpuMeter(WALL_LIMIT_SEC)
    yield m
    m.close()


def parse(spec: str, line: str) -> None:
    """What the child runs per line."""
    parse_line(line, LineFormat.from_spec(spec))


# No shrinking: every step of it would parse slow lines again, for minutes.
@settings(max_examples=80, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(spec=st.one_of(st.sampled_from(PRESETS), loghub_specs()), motif=_MOTIFS, size=st.integers(0, MAX_LINE),
       tail=_TAILS)
def test_any_line_parses_within_a_cpu_budget(meter: CpuMeter, spec: str, motif: str, size: int, tail: str) -> None:
    """Fails on a backtracking matcher: a repeated motif without the last separator of a header
    makes every lazy field try every split."""
    assert meter.cpu(f"{__name__}:parse", spec, long_line(motif, size, tail)) < CPU_BUDGET_SEC


@pytest.mark.parametrize("spec", PRESETS)
def test_every_preset_parses_a_long_line_within_a_cpu_budget(meter: CpuMeter, spec: str) -> None:
    """Every preset for certain, not only those the random draw picks: 64 KiB of words and header
    separators that never close the header."""
    assert meter.cpu(f"{__name__}:parse", spec, long_line("word : [x] <13> ", MAX_LINE, "")) < CPU_BUDGET_SEC


def test_a_header_ends_within_the_cap() -> None:
    fmt = LineFormat.from_spec("<Date> <Time> <Level> <Component>: <Content>")
    long_content = "x " * (MAX_LINE // 2)
    line = parse_line("081109 203615 INFO dfs.DataNode: " + long_content, fmt)
    assert line.matched and line.message == long_content.strip(), "the content after a header is not capped"
    late = parse_line("081109 203615 INFO " + "c" * HEADER_MAX_CHARS + ": message", fmt)
    assert not late.matched, "a header reaching past the cap is no header"


def reference(spec: str, line: str) -> ParsedLine:
    """The Loghub convention with Python's `re` (formats.json `_about`), as `parse_line` reads it."""
    parts = re.split(r"<(\w+)>", spec)
    regex = "".join(
        re.sub(" +", r"\\s+", p) if i % 2 == 0 else (f"(?P<{p}>.*)" if i == len(parts) - 2 else f"(?P<{p}>.*?)")
        for i, p in enumerate(parts)
    )
    text = line.strip()
    m = re.match("^" + regex + "$", text, re.S)
    if m is None or m.group("Content") is None:
        return unmatched(text)
    groups = {k: v for k, v in m.groupdict().items() if v is not None}
    message = groups.pop("Content")
    return assemble(message.strip(), [(k, v.strip()) for k, v in groups.items()])


@settings(max_examples=200, deadline=None)
@given(spec=loghub_specs(), line=st.lists(st.sampled_from(_TOKENS), max_size=8).map("".join))
def test_format_strings_mean_what_the_loghub_regex_means(spec: str, line: str) -> None:
    assert parse_line(line, LineFormat.from_spec(spec)) == reference(spec, line)


@pytest.mark.parametrize(("spec", "why"), [(r"<A> (?=x)<Content>", "look-around"), (r"(.)\1<Content>", "backref")])
def test_backtracking_constructs_are_refused(spec: str, why: str) -> None:
    with pytest.raises(ConfigError, match="not a valid regex"):
        LineFormat.from_spec(spec)
