"""Split a line with a header (preset or Loghub format string) into fields."""

from __future__ import annotations

from streamapp.parsing.fields import ParsedLine, assemble, unmatched
from streamapp.parsing.formats import MESSAGE_FIELD, Header


def parse_header(raw: str, header: Header) -> ParsedLine:
    """Fields of `raw` by `header`; the `Content` field is the message."""
    line = raw.strip()
    fields = header.split(line)
    if fields is None:
        return unmatched(line)
    groups = dict(fields)
    message = groups.pop(MESSAGE_FIELD, None)
    if message is None:
        return unmatched(line)
    return assemble(message.strip(), [(k, v.strip()) for k, v in groups.items()])
