"""JSON and logfmt lines: the message is the first present key of a configured list."""

from __future__ import annotations

import json
import re

from streamapp.parsing.fields import ParsedLine, assemble, unmatched

# key=value, key="quoted \" value", or a bare key; values end at whitespace.
_LOGFMT = re.compile(r'([^\s=]+)(?:=("(?:[^"\\]|\\.)*"|\S*))?')


def _pick(pairs: list[tuple[str, str]], keys: tuple[str, ...], raw: str) -> ParsedLine:
    found = dict(pairs)
    for key in keys:
        if key in found:
            return assemble(found[key], [(k, v) for k, v in pairs if k != key])
    return unmatched(raw)


def parse_json(raw: str, message_keys: tuple[str, ...]) -> ParsedLine:
    """A JSON object per line; nested values are kept as compact JSON text."""
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError):
        return unmatched(raw)
    if not isinstance(obj, dict):
        return unmatched(raw)
    pairs = [
        (str(k), v if isinstance(v, str) else json.dumps(v, separators=(",", ":"), default=str)) for k, v in obj.items()
    ]
    return _pick(pairs, message_keys, raw)


def parse_logfmt(raw: str, message_keys: tuple[str, ...]) -> ParsedLine:
    """`key=value` pairs; quoted values are unescaped."""
    pairs = []
    for m in _LOGFMT.finditer(raw):
        value = m.group(2) or ""
        if value.startswith('"') and len(value) >= 2:
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        pairs.append((m.group(1), value))
    return _pick(pairs, message_keys, raw)
