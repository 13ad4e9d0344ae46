"""What the miner accepts: every string is mined or rejected with a reason, never an exception."""

from __future__ import annotations

# Longer messages are cut: the tail of a 1 MB line is data, not template text.
MAX_CHARS = 16_384
# A message that is mostly unprintable (NULs, control bytes, undecodable bytes) is binary garbage.
MAX_UNPRINTABLE = 0.3

REPLACEMENT = "\ufffd"  # what an undecodable byte became


def clean(message: str) -> tuple[str, str | None]:
    """`(text to mine, None)`, or `("", reason)` for a message that cannot be mined."""
    if not isinstance(message, str):
        return "", "not text"
    if len(message) > MAX_CHARS:
        message = message[:MAX_CHARS]
    if not message.isprintable() or REPLACEMENT in message:
        bad = sum(1 for c in message if c == REPLACEMENT or not (c.isprintable() or c.isspace()))
        if bad > MAX_UNPRINTABLE * len(message):
            return "", "binary"
        message = "".join(c if c.isprintable() else " " for c in message)
    if not message.strip():
        return "", "empty"
    return message, None
