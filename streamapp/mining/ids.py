"""Content-addressed template ids: the same template text has the same id everywhere, always."""

from __future__ import annotations

from hashlib import blake2b

ID_BYTES = 8


def template_id(template: str) -> str:
    """A short hex digest of the whitespace-normalised template text."""
    normal = " ".join(template.split())
    return blake2b(normal.encode("utf-8", "surrogatepass"), digest_size=ID_BYTES).hexdigest()
