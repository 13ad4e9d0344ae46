"""Line parsing (pure): headers by preset or Loghub format string, JSON and logfmt lines."""

from __future__ import annotations

from streamapp.parsing.fields import ParsedLine
from streamapp.parsing.formats import PRESETS, LineFormat
from streamapp.parsing.headers import parse_header
from streamapp.parsing.structured import parse_json, parse_logfmt

__all__ = ["PRESETS", "LineFormat", "ParsedLine", "parse_line"]


def parse_line(raw: str, fmt: LineFormat) -> ParsedLine:
    """Split one raw line by its source's format; a line no header fits is returned unmatched."""
    if fmt.kind == "json":
        return parse_json(raw, fmt.message_keys)
    if fmt.kind == "logfmt":
        return parse_logfmt(raw, fmt.message_keys)
    assert fmt.header is not None
    return parse_header(raw, fmt.header)
