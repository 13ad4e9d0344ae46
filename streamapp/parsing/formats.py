"""Line formats: the presets of the design's sources and Loghub-style format strings, compiled once.

A source's configuration names its format; nothing is guessed from file names. A format string
such as ``<Date> <Time> <Level> <Component>: <Content>`` becomes an anchored regex: every field but
the last matches lazily, the last takes the rest of the line, and the text between fields is a
regex in which a run of spaces means ``\\s+`` (the Loghub convention).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from streamapp.errors import ConfigError

Kind = Literal["header", "json", "logfmt"]

DEFAULT_MESSAGE_KEYS = ("message", "msg", "log", "text", "content", "MESSAGE")

_MONTH_DAY_TIME = r"[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}"
_ISO_TIME = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"

# Presets use the canonical field names of `ParsedLine`, so one code path serves them all.
_PRESET_PATTERNS = {
    # `<PRI>` is optional; the component may carry a sub-name (`sshd(pam_unix)`) and spaces.
    "linux": (
        rf"(?:<\d{{1,3}}>)?(?P<Timestamp>{_MONTH_DAY_TIME}|{_ISO_TIME}) (?P<Host>\S+) "
        r"(?P<Component>[^\[\]:]+?)(?:\[(?P<Pid>\d+)\])?: ?(?P<Content>.*)"
    ),
    # macOS system.log: like syslog, plus an optional ` (address)` after the pid.
    "macos": (
        rf"(?P<Timestamp>{_MONTH_DAY_TIME}) (?P<Host>\S+) (?P<Component>[^\[\]:]+?)"
        r"(?:\[(?P<Pid>\d+)\])?(?: \((?P<Address>.*?)\))?: (?P<Content>.*)"
    ),
    # Windows CBS.log / CSI: `2016-09-28 04:30:30, Info   CBS    message`.
    "windows": (
        r"(?P<Timestamp>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}), (?P<Level>\w+)\s+"
        r"(?P<Component>\w+)\s+(?P<Content>.*)"
    ),
}

_FIELD = re.compile(r"<(\w+)>")


def loghub_regex(spec: str) -> re.Pattern[str]:
    """Compile a Loghub format string (see the module docstring) into an anchored regex."""
    parts = _FIELD.split(spec)
    if len(parts) < 3:
        raise ConfigError(f"format string {spec!r} names no <Field>")
    out, seen = [], set()
    for i, part in enumerate(parts):
        if i % 2 == 0:
            out.append(re.sub(" +", r"\\s+", part))
            continue
        if part in seen:
            raise ConfigError(f"format string {spec!r} repeats <{part}>")
        seen.add(part)
        out.append(f"(?P<{part}>.*)" if i == len(parts) - 2 else f"(?P<{part}>.*?)")
    try:
        return re.compile("^" + "".join(out) + "$", re.S)
    except re.error as exc:
        raise ConfigError(f"format string {spec!r} is not a valid regex: {exc}") from exc


@dataclass(frozen=True)
class LineFormat:
    """How to split one source's lines into fields (compiled once, shared by every line)."""

    kind: Kind
    pattern: re.Pattern[str] | None = None
    message_keys: tuple[str, ...] = DEFAULT_MESSAGE_KEYS

    @classmethod
    def from_spec(cls, spec: str, message_keys: tuple[str, ...] = DEFAULT_MESSAGE_KEYS) -> LineFormat:
        """A preset name (`linux`, `macos`, `windows`, `json`, `logfmt`) or a Loghub format string."""
        name = spec.strip().lower()
        if name in ("json", "logfmt"):
            return cls(kind=name, message_keys=tuple(message_keys))  # type: ignore[arg-type]
        if name in _PRESET_PATTERNS:
            return cls(kind="header", pattern=re.compile("^" + _PRESET_PATTERNS[name] + "$", re.S))
        if "<" not in spec:
            known = ", ".join([*_PRESET_PATTERNS, "json", "logfmt"])
            raise ConfigError(f"unknown format {spec!r}: use a preset ({known}) or a <Field> format string")
        return cls(kind="header", pattern=loghub_regex(spec))


PRESETS = (*_PRESET_PATTERNS, "json", "logfmt")
