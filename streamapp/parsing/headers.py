"""Split a line with a regex header (preset or Loghub format string) into fields."""

from __future__ import annotations

import re

from streamapp.parsing.fields import ParsedLine, assemble, unmatched

MESSAGE_FIELD = "Content"


def parse_header(raw: str, pattern: re.Pattern[str]) -> ParsedLine:
    """Fields of `raw` by `pattern`; the `Content` group is the message."""
    line = raw.strip()
    m = pattern.match(line)
    if m is None:
        return unmatched(line)
    groups = m.groupdict()
    message = groups.pop(MESSAGE_FIELD, None)
    if message is None:
        return unmatched(line)
    fields = [(k, v.strip()) for k, v in groups.items() if v is not None]
    return assemble(message.strip(), fields)
