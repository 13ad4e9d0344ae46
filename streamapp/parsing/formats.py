"""Line formats: the presets of the design's sources and Loghub-style format strings, compiled once.

A source's configuration names its format; nothing is guessed from file names. A format string
such as ``<Date> <Time> <Level> <Component>: <Content>`` means an anchored regex: every field but
the last matches lazily, the last takes the rest of the line, and the text between fields is a
regex in which a run of spaces means ``\\s+`` (the Loghub convention).

Lines are attacker-controlled, and Python's backtracking `re` takes time exponential in the number
of lazy fields on a line that almost fits (a 200-word line without the `:` of an HDFS header took
seconds, stalling the whole worker). So formats run on RE2, whose time is linear in the text, with
the same leftmost-first submatch semantics; Python's Unicode meaning of ``\\s \\d \\w`` (RE2's are
ASCII) is kept by spelling them out. When the last field stands at the top level with nothing after
it (every preset and Loghub format), it is "the rest of the line": only the header before it is
matched, and that header must end within the first `HEADER_MAX_CHARS` characters, so the cost of a
line does not grow with its length. Backreferences and look-around, which need backtracking, are
refused with a clear error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import re2

# The public wrapper builds a match object and re-encodes the text per call (about three times the
# cost of the match itself); the consumer matches every line, so it calls the engine directly.
from re2 import _re2

from streamapp.errors import ConfigError

Kind = Literal["header", "json", "logfmt"]

DEFAULT_MESSAGE_KEYS = ("message", "msg", "log", "text", "content", "MESSAGE")

# Timestamps, hosts, components, pids and levels fit in far less; a longer header is not one.
HEADER_MAX_CHARS = 2048

_MONTH_DAY_TIME = r"[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}"
_ISO_TIME = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"

# Presets use the canonical field names of `ParsedLine`, so one code path serves them all; each is
# its header, the rest of the line being `Content`.
_PRESET_HEADERS = {
    # `<PRI>` is optional; the component may carry a sub-name (`sshd(pam_unix)`) and spaces.
    "linux": (
        rf"(?:<\d{{1,3}}>)?(?P<Timestamp>{_MONTH_DAY_TIME}|{_ISO_TIME}) (?P<Host>\S+) "
        r"(?P<Component>[^\[\]:]+?)(?:\[(?P<Pid>\d+)\])?: ?"
    ),
    # macOS system.log: like syslog, plus an optional ` (address)` after the pid.
    "macos": (
        rf"(?P<Timestamp>{_MONTH_DAY_TIME}) (?P<Host>\S+) (?P<Component>[^\[\]:]+?)"
        r"(?:\[(?P<Pid>\d+)\])?(?: \((?P<Address>.*?)\))?: "
    ),
    # Windows CBS.log / CSI: `2016-09-28 04:30:30, Info   CBS    message`.
    "windows": r"(?P<Timestamp>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}), (?P<Level>\w+)\s+(?P<Component>\w+)\s+",
}
MESSAGE_FIELD = "Content"

_FIELD = re.compile(r"<(\w+)>")

# Python's `\s`, `\d` and `\w` on text are Unicode-wide; RE2's are ASCII. Spelled out for RE2:
_SPACE = "".join(f"\\x{{{c:x}}}" for c in range(0x3001) if chr(c).isspace())  # none lies higher
_DIGIT = r"\p{Nd}"
_WORD = r"\p{L}\p{N}_"
_IN_CLASS = {"s": _SPACE, "d": _DIGIT, "D": r"\P{Nd}", "w": _WORD}
_OUTSIDE = {"s": f"[{_SPACE}]", "S": f"[^{_SPACE}]", "d": _DIGIT, "D": r"\P{Nd}", "w": f"[{_WORD}]",
            "W": f"[^{_WORD}]", "Z": r"\z"}


def to_re2(pattern: str) -> tuple[str, int]:
    """`pattern` (Python syntax) rewritten for RE2 with Python's meaning, and its net group depth
    (unbalanced parentheses: a Loghub separator may open a group that a later one closes)."""
    out: list[str] = []
    depth, i, in_class = 0, 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            e = pattern[i + 1]
            i += 2
            if in_class and e in ("S", "W"):
                raise ConfigError(f"{pattern!r}: \\{e} inside [...] is not supported; use [^...] around \\{e.lower()}")
            if e in "uU":
                width = 4 if e == "u" else 8
                out.append(f"\\x{{{pattern[i:i + width]}}}")
                i += width
            else:
                out.append((_IN_CLASS if in_class else _OUTSIDE).get(e, "\\" + e))
            continue
        if in_class:
            in_class = c != "]" or out[-1] in ("[", "[^")
        elif c == "[":
            in_class = True
            if pattern.startswith("^", i + 1):
                out.append("[^")
                i += 2
                continue
        else:
            depth += (c == "(") - (c == ")")
        out.append(c)
        i += 1
    return "".join(out), depth


@dataclass(frozen=True, eq=False)
class Header:
    """A compiled header: `rest` names the field that takes the rest of the line after the match
    (only the first `HEADER_MAX_CHARS` characters are then matched); with `rest` empty the regex
    must match the whole line."""

    engine: _re2.RE2
    groups: tuple[tuple[str, int], ...]  # (name, group index), in pattern order
    rest: str = ""

    @classmethod
    def compile(cls, body: str, rest: str, spec: str) -> Header:
        options = re2.Options()
        options.log_errors = False
        pattern = "(?s)^" + body + ("" if rest else "$")
        engine = _re2.RE2(pattern.encode(), options)
        if not engine.ok():
            raise ConfigError(f"format {spec!r} is not a valid regex: {engine.error().decode()}")
        named = sorted(((name.decode(), index) for name, index in engine.NamedCapturingGroups()), key=lambda g: g[1])
        return cls(engine=engine, groups=tuple(named), rest=rest)

    def split(self, line: str) -> list[tuple[str, str]] | None:
        """(field, value) pairs of `line` in pattern order (fields that took no part are absent);
        None when the header does not fit. (A lone surrogate, which no UTF-8 decoder produces,
        is matched as `?`: RE2 sees valid UTF-8 only, so every span decodes.)"""
        text = (line[:HEADER_MAX_CHARS] if self.rest else line).encode("utf-8", "replace")
        spans = self.engine.Match(_re2.RE2.Anchor.ANCHOR_START, text, 0, len(text))
        if spans[0][0] < 0:
            return None
        fields = [(name, text[a:b].decode()) for name, index in self.groups for a, b in (spans[index],) if a >= 0]
        if self.rest:
            fields.append((self.rest, text[spans[0][1]:].decode() + line[HEADER_MAX_CHARS:]))
        return fields


def loghub_header(spec: str) -> Header:
    """Compile a Loghub format string (see the module docstring)."""
    parts = _FIELD.split(spec)
    if len(parts) < 3:
        raise ConfigError(f"format string {spec!r} names no <Field>")
    out, seen, depth, last = [], set(), 0, len(parts) - 2
    for i, part in enumerate(parts):
        if i % 2 == 0:
            text, opened = to_re2(re.sub(" +", r"\\s+", part))
            out.append(text)
            depth += opened
        elif part in seen:
            raise ConfigError(f"format string {spec!r} repeats <{part}>")
        else:
            seen.add(part)
            # The last field with nothing after it, outside any group, is the rest of the line: left
            # out of the regex. Otherwise it is greedy, as in the Loghub regex, and the whole line is matched.
            if i == last and depth == 0 and parts[-1] == "":
                return Header.compile("".join(out), part, spec)
            out.append(f"(?P<{part}>.*?)" if i < last else f"(?P<{part}>.*)")
    return Header.compile("".join(out), "", spec)


@dataclass(frozen=True)
class LineFormat:
    """How to split one source's lines into fields (compiled once, shared by every line)."""

    kind: Kind
    header: Header | None = None
    message_keys: tuple[str, ...] = DEFAULT_MESSAGE_KEYS

    @classmethod
    def from_spec(cls, spec: str, message_keys: tuple[str, ...] = DEFAULT_MESSAGE_KEYS) -> LineFormat:
        """A preset name (`linux`, `macos`, `windows`, `json`, `logfmt`) or a Loghub format string."""
        name = spec.strip().lower()
        if name in ("json", "logfmt"):
            return cls(kind=name, message_keys=tuple(message_keys))  # type: ignore[arg-type]
        if name in _PRESET_HEADERS:
            return cls(kind="header", header=Header.compile(to_re2(_PRESET_HEADERS[name])[0], MESSAGE_FIELD, name))
        if "<" not in spec:
            known = ", ".join([*_PRESET_HEADERS, "json", "logfmt"])
            raise ConfigError(f"unknown format {spec!r}: use a preset ({known}) or a <Field> format string")
        return cls(kind="header", header=loghub_header(spec))


PRESETS = (*_PRESET_HEADERS, "json", "logfmt")
