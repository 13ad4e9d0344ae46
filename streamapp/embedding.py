"""Text embeddings for templates and lines: the interface, and a local hashed TF-IDF embedder.

The local embedder needs no model download and is deterministic across processes (tokens are hashed
with BLAKE2b, not Python's salted `hash`), so it works offline and in tests. Vectors are L2-normalised
rows of a fixed dimension, ready for cosine search in the vector store.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
"""One L2-normalised row per input text, shape ``(len(texts), dim)``."""

_WILDCARD = re.compile(r"<\*>")
_WORD = re.compile(r"[^\W_]+")  # unicode alphanumerics: `_`, punctuation and spaces separate
# camelCase and acronym boundaries: `connectionRefused` -> `connection Refused`, `HTTPServer` -> `HTTP Server`
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
# numbers, hex ids and addresses vary per line and say nothing about the message
_NOISE = re.compile(r"0x[0-9a-f]+|[0-9a-f]*[0-9][0-9a-f]*")


class Embedder(Protocol):
    """Turns texts into unit-length vectors for cosine search; one row per text, in order."""

    async def embed(self, texts: Sequence[str]) -> Vectors: ...


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens of a template or line: wildcards, numbers and hex ids dropped."""
    tokens = []
    for word in _WORD.findall(_WILDCARD.sub(" ", text)):
        for token in _CAMEL.sub(" ", word).lower().split():
            if len(token) > 1 and not _NOISE.fullmatch(token):
                tokens.append(token)
    return tokens


@functools.lru_cache(maxsize=65536)
def _bucket(token: str, dim: int) -> tuple[int, float]:
    """The token's column and sign; the sign makes hash collisions cancel out on average."""
    h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "big")
    return h % dim, (1.0 if h >> 63 else -1.0)


class HashedTfidfEmbedder:
    """Hashed TF-IDF over template tokens (sublinear tf), L2-normalised, with an online-learned idf.

    Document frequencies are kept per hashed column, so memory stays fixed however many distinct
    tokens the stream brings. With nothing observed every token weighs the same. The idf state is
    plain data (``docs``, ``df``) so a caller can persist it and rebuild the same embedder later;
    vectors computed before and after further ``observe`` calls differ slightly, which cosine
    search tolerates.
    """

    def __init__(self, dim: int = 512, *, docs: int = 0, df: npt.ArrayLike | None = None) -> None:
        if dim < 2:
            raise ValueError(f"dim must be at least 2, got {dim}")
        self.dim = dim
        self.docs = docs
        self.df = np.zeros(dim, np.float64) if df is None else np.array(df, np.float64)
        if self.df.shape != (dim,):
            raise ValueError(f"df must have shape ({dim},), got {self.df.shape}")

    @classmethod
    def from_templates(cls, templates: Iterable[str], dim: int = 512) -> HashedTfidfEmbedder:
        """An embedder whose idf is learned from a template table (each template one document)."""
        embedder = cls(dim)
        embedder.observe(templates)
        return embedder

    def observe(self, texts: Iterable[str]) -> None:
        """Count each text as one document for the idf; feed each new template once."""
        for text in texts:
            columns = {_bucket(token, self.dim)[0] for token in tokenize(text)}
            self.df[list(columns)] += 1
            self.docs += 1

    def vectors(self, texts: Sequence[str]) -> Vectors:
        """The embeddings of ``texts``, computed synchronously (pure CPU)."""
        idf = np.log((1.0 + self.docs) / (1.0 + self.df)) + 1.0
        out = np.zeros((len(texts), self.dim), np.float64)
        for row, text in enumerate(texts):
            for token, count in Counter(tokenize(text)).items():
                column, sign = _bucket(token, self.dim)
                out[row, column] += sign * (1.0 + math.log(count)) * idf[column]
        norms = np.linalg.norm(out, axis=1)
        # No token (or signed buckets that cancelled exactly): a flat vector, valid and unit-length,
        # that stays far from every real text since those are sparse.
        empty = norms == 0.0
        out[empty] = 1.0
        norms[empty] = math.sqrt(self.dim)
        return (out / norms[:, None]).astype(np.float32)

    async def embed(self, texts: Sequence[str]) -> Vectors:
        """The `Embedder` interface; the work is pure CPU, so it runs inline."""
        return self.vectors(texts)
