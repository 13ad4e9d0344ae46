"""Which OS and line format a file holds, for sources that name none: from the file's name (the
design's `Linux.log`, `Mac.log`, `Windows_2k.log`), failing that from its first lines (each preset
tried on them; the one most of them fit wins).

Pure and bounded: a few lines, each cut to MAX_LINE characters, are looked at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath

from streamapp.parsing import LineFormat, parse_line

SNIFF_LINES = 20
MAX_LINE = 4096
MIN_SHARE = 0.6  # of the non-empty first lines a preset must fit to be chosen
# Words of a file name that name an OS or a format (the name split at anything not a letter or digit).
NAME_WORDS = {
    "linux": "linux", "syslog": "linux", "messages": "linux", "kern": "linux", "auth": "linux", "secure": "linux",
    "mac": "macos", "macos": "macos", "osx": "macos", "darwin": "macos",
    "windows": "windows", "win": "windows", "cbs": "windows",
    "json": "json", "jsonl": "json", "ndjson": "json", "logfmt": "logfmt",
}
_WORD = re.compile(r"[a-z]+|\d+")
# Presets tried on the first lines; on a tie the earlier wins (a plain syslog line fits `macos` too).
SNIFFED = ("json", "logfmt", "windows", "linux", "macos")


@dataclass(frozen=True)
class Inference:
    """The preset chosen and why, in words for the source's status."""

    format: str
    reason: str


def from_name(path: str) -> Inference | None:
    """The preset a file name points at: a word of it (`Mac.log`, `Windows_2k.log`, `app.jsonl`),
    or macOS's own `system.log`."""
    name = PurePath(path).name.lower()
    if name == "system.log":
        return Inference("macos", f"the file name {PurePath(path).name} (macOS's system log)")
    for word in _WORD.findall(name):
        if word in NAME_WORDS:
            return Inference(NAME_WORDS[word], f"the file name {PurePath(path).name}")
    return None


def from_lines(lines: Iterable[str]) -> Inference | None:
    """The preset most of the first non-empty lines fit (at least MIN_SHARE of them). Syslog-shaped
    lines are macOS when some carry its marks: daemons named in reverse DNS (`com.apple.*`), the
    kernel logging as pid 0, or the ` (address)` macOS puts after a pid."""
    sample = [line[:MAX_LINE] for line in lines if line.strip()][:SNIFF_LINES]
    if not sample:
        return None
    best, share = "", 0.0
    for preset in SNIFFED:
        fmt = LineFormat.from_spec(preset)
        matched = sum(parse_line(line, fmt).matched for line in sample) / len(sample)
        if matched > share:
            best, share = preset, matched
    if share < MIN_SHARE:
        return None
    if best in ("linux", "macos") and (marked := _mac_marked(sample)) >= 0.2 * len(sample):
        fit = sum(parse_line(line, LineFormat.from_spec("macos")).matched for line in sample)
        return Inference("macos", f"its first lines ({fit} of {len(sample)} fit macos, {marked} with its marks)")
    return Inference(best, f"its first lines ({round(share * len(sample))} of {len(sample)} fit {best})")


def _mac_marked(sample: list[str]) -> int:
    fmt = LineFormat.from_spec("macos")
    marked = 0
    for line in sample:
        parsed = parse_line(line, fmt)
        address = any(k == "Address" and v for k, v in parsed.extra)
        component = parsed.component or ""
        marked += parsed.matched and (address or component.startswith("com.apple.")
                                      or (component == "kernel" and parsed.pid == "0"))
    return marked


def infer(path: str, first_lines: Iterable[str]) -> Inference | None:
    """From the name, else from the first lines; None when neither says."""
    return from_name(path) or from_lines(first_lines)
