"""Durations as operators write them: `900`, `900s`, `15m`, `1h`, `1h30m`, `2d`.

A bare number means seconds (the system this replaces read `900` as 90 s; see the contract doc).
"""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_SCALE = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
MAX_SEC = 365 * 86400.0


def parse_duration(value: object) -> float:
    """Seconds, or ValueError saying what is accepted. Numbers (YAML ints/floats) are seconds."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration (use 900, 900s, 15m, 1h)")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = str(value).strip().lower().replace(" ", "")
        try:
            seconds = float(text)
        except ValueError:
            parts = _PART.findall(text)
            if not parts or "".join(n + u for n, u in parts) != text:
                raise ValueError(f"{value!r} is not a duration (use 900, 900s, 15m, 1h)") from None
            seconds = sum(float(n) * _SCALE[u] for n, u in parts)
    if not 0 <= seconds <= MAX_SEC:
        raise ValueError(f"{value!r} is out of range (0 to 365 days)")
    return seconds
