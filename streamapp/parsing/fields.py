"""The parsed form of a line, and the mapping from source field names to its roles."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Field names (lower-cased) that fill each role; Loghub, syslog and JSON loggers spell them variously.
_ROLES = {
    "timestamp": ("timestamp", "@timestamp", "datetime", "ts", "date", "time", "month", "day", "year"),
    "host": ("host", "hostname", "node"),
    "component": ("component", "logger", "logger_name", "program", "service"),
    "pid": ("pid", "process_id", "processid"),
    "level": ("level", "severity", "lvl", "loglevel", "levelname", "priority", "pri"),
}
_ROLE_OF = {name: role for role, names in _ROLES.items() for name in names}


@dataclass(frozen=True, slots=True)
class ParsedLine:
    """One line split into fields; `matched` is False when no header matched (message = whole line)."""

    message: str
    matched: bool
    timestamp: str | None = None
    host: str | None = None
    component: str | None = None
    pid: str | None = None
    level: str | None = None
    extra: tuple[tuple[str, str], ...] = ()


def unmatched(raw: str) -> ParsedLine:
    """A line no header fits: still mined, as a whole."""
    return ParsedLine(message=raw.strip(), matched=False)


def assemble(message: str, fields: Iterable[tuple[str, str]]) -> ParsedLine:
    """Fill the roles from named fields, in order; timestamp pieces (date, time...) are joined."""
    roles: dict[str, str] = {}
    extra = []
    for name, value in fields:
        role = _ROLE_OF.get(name.lower())
        if role is None:
            extra.append((name, value))
        elif role == "timestamp" and role in roles:
            roles[role] = f"{roles[role]} {value}"
        elif role not in roles:
            roles[role] = value
        else:
            extra.append((name, value))
    return ParsedLine(message=message, matched=True, extra=tuple(extra), **roles)
