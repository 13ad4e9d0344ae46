"""Context lines stay with their headline: the continuation lines of one event (stack traces,
register dumps, `key: value` dumps, indented text) are grouped with the line that opened it.

Multi-line events reach the pipeline one line at a time, and a continuation line often has no
header of its own (or one the format string matched by accident), so on its own it would open an
issue under a made-up key and could become an alert by itself. As log shippers' multi-line rules
do, a line is a continuation when it is indented, has no header while its source's lines have
one, or reads as a stack frame or a dump of values with no verb; it then takes the host,
component and pid (and the level, when it has none) of the last headline of its source, if
that came recently. Pure: no I/O, the time is passed in.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass

from streamapp.parsing import ParsedLine

MAX_SOURCES = 10_000  # sources whose last headline is remembered (least recent forgotten)
MAX_RUN = 500  # continuation lines one headline takes; past that a line stands on its own
# Frames, register lines and dumps are short: a line this long is a record of its own (a payload
# dumped to the log), and keeping it apart bounds what one event can carry.
MAX_CONTEXT_CHARS = 8192
# How traces go on in Java/.NET/Python/Go/Node and Linux kernel oopses (first word of the line).
_FRAME_OPENERS = ("at ", "Caused by:", "Suppressed:", "Traceback (most recent call last)", "File \"",
                  "goroutine ", "Call Trace:", "<IRQ>", "<EOI>", "<TASK>", "</TASK>", "Code: ", "---[ end trace")


# Checked for every token of every line: as character classes (\w is what str.isalnum() accepts, and _).
_VALUE_CHARS = re.compile(r"[\w.:\-+/]+")
_KEY_CHARS = re.compile(r"[\w.\-#\[\]/]+")


@dataclass(frozen=True, slots=True)
class Headline:
    """The line that opened an event: what its continuation lines take from it."""

    line_id: str
    host: str
    component: str
    pid: str
    level: str


def _is_value(token: str) -> bool:
    """A number, hex word or address: what register and counter dumps are made of."""
    core = token.strip("[](){}<>,;")
    if core.lower().startswith(("0x", "-0x")):
        core = core[core.lower().index("x") + 1 :]
    return bool(core) and any(map(str.isdigit, core)) and _VALUE_CHARS.fullmatch(core) is not None


def _is_key(token: str) -> bool:
    """A register or field name: `RAX`, `r00`, `CR2`, `eth0.rx_bytes` (not a time or a number)."""
    return token[:1].isalpha() and _KEY_CHARS.fullmatch(token) is not None


def is_dump(text: str) -> bool:
    """Two or more `KEY: value` / `key=value` pairs with values that are numbers, and no loose
    words (no verb): `RAX: 0000000000000000 RBX: ffff88003a7b4000`, `r00=0x00000000 r01=0x1`."""
    tokens = text.split()
    pairs = numeric = 0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        key, eq, value = tok.partition("=")
        if not eq:
            key, eq, value = tok.partition(":")
        eq = eq if _is_key(key) else ""
        if eq and not value and i + 1 < len(tokens):  # `KEY: value` over two tokens
            value = tokens[i + 1]
            i += 1
        if eq and value:
            pairs += 1
            numeric += _is_value(value)
        elif not _is_value(tok):
            return False  # a loose word: not a dump (most lines end here, at their first word)
        i += 1
    return pairs >= 2 and numeric * 2 >= pairs


def _is_frame(text: str) -> bool:
    return text.startswith(_FRAME_OPENERS) or (text.startswith("...") and text.rstrip().endswith(("more", "omitted")))


def is_continuation(raw: str, parsed: ParsedLine, noise: bool | None = None) -> bool:
    """Whether a line goes on the event before it (see the module docstring). `noise` is
    `header_is_noise(raw, parsed)` when the caller has it already (it answers half the question)."""
    if len(raw) > MAX_CONTEXT_CHARS:
        return False
    if raw[:1] in (" ", "\t") and raw.strip():
        return True
    if not parsed.matched:
        return True
    line = raw.strip()
    if noise is not None and raw[:1] not in (" ", "\t"):  # then noise = the line is a frame or a dump
        return noise or _is_frame(parsed.message) or is_dump(parsed.message)
    return any(_is_frame(t) or is_dump(t) for t in (line, parsed.message))


def header_is_noise(raw: str, parsed: ParsedLine) -> bool:
    """The line itself is a frame or dump: fields a format string found in it are not a header."""
    line = raw.strip()
    return not parsed.matched or raw[:1] in (" ", "\t") or _is_frame(line) or is_dump(line)


class Headlines:
    """The last headline of each source (bounded), and how its event goes on."""

    def __init__(self, max_gap_sec: float = 10.0, max_sources: int = MAX_SOURCES) -> None:
        self.max_gap_sec = max_gap_sec
        self.max_sources = max_sources
        self._last: OrderedDict[str, _Event] = OrderedDict()
        self.forgotten = 0  # sources dropped past max_sources

    def follow(self, source: str, line_id: str, raw: str, parsed: ParsedLine, t: float) -> Headline | None:
        """The headline this line continues, or None when it opens an event of its own (it is then
        remembered as its source's headline). `t`: when the line arrived; an event whose last line
        is older than the gap is over."""
        if self.max_gap_sec <= 0:
            return None
        noise = header_is_noise(raw, parsed)  # asked once: it is most of the cost of a line here
        event = self._last.get(source)
        if event is not None and is_continuation(raw, parsed, noise):
            head = event.head
            if t - event.last_t <= self.max_gap_sec and event.run < MAX_RUN and _same_source(head, parsed, noise):
                event.run += 1
                event.last_t = t
                self._last.move_to_end(source)
                return head
        if parsed.matched and not noise:
            head = Headline(line_id, parsed.host or "", parsed.component or "", parsed.pid or "", parsed.level or "")
            self._last[source] = _Event(head, t)
            self._last.move_to_end(source)
            while len(self._last) > self.max_sources:
                self._last.popitem(last=False)
                self.forgotten += 1
        return None


def _same_source(head: Headline, parsed: ParsedLine, noise: bool) -> bool:
    """A line with a header of its own goes on an event of its host and component only."""
    if noise:
        return True
    return all(not mine or not theirs or mine.lower() == theirs.lower()
               for mine, theirs in ((parsed.host, head.host), (parsed.component, head.component)))


@dataclass(slots=True)
class _Event:
    head: Headline
    last_t: float
    run: int = 0
