"""Alarm lines: a producer works out which alarms hold now (pure code in `streamapp.normalisers`)
and keeps the previous set in its cursor, so each alarm is logged once when it starts or changes
and once when it clears, across producer restarts too, instead of once per poll."""

from __future__ import annotations

import time

Held = dict[str, list[str]]  # key -> [subject, problem], as stored in a JSON cursor


def transitions(before: Held, now: dict[str, tuple[str, str, str]]) -> tuple[list[str], Held]:
    """Messages for alarms that started or changed, then for those that cleared; and the new held set."""
    held = {key: [subject, problem] for key, (subject, problem, _) in now.items()}
    messages = [f"{s}: {p}{d}" for key, (s, p, d) in now.items() if before.get(key) != held[key]]
    messages += [f"{before[key][0]}: recovered" for key in before if key not in now]
    return messages, held


def stamp(at: float | None = None) -> str:
    """ISO-8601 UTC seconds, the timestamp our `linux` line format parses."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if at is None else at))
