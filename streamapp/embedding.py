"""Text embeddings for templates and lines: the interface, the local semantic embedder (default) and
the hashed TF-IDF fallback.

Both local embedders run offline and deterministically. The semantic one reads the WordLlama
`l2_supercat` token embeddings (256 dimensions) and their tokenizer from the files inside the installed
`wordllama` wheel, explicitly: the package's own loader looks for the tokenizer under a folder that
does not exist and then tries the network. The hashed one needs no files at all (tokens are hashed
with BLAKE2b, not Python's salted `hash`). Vectors are L2-normalised rows of a fixed dimension, ready
for cosine search in the vector store; `name` identifies the embedder so a store built with another
one is noticed.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]
"""One L2-normalised row per input text, shape ``(len(texts), dim)``."""

_WILDCARD = re.compile(r"<\*>")
_WORD = re.compile(r"[^\W_]+")  # unicode alphanumerics: `_`, punctuation and spaces separate
# camelCase and acronym boundaries: `connectionRefused` -> `connection Refused`, `HTTPServer` -> `HTTP Server`
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
# numbers, hex ids and addresses vary per line and say nothing about the message
_NOISE = re.compile(r"0x[0-9a-f]+|[0-9a-f]*[0-9][0-9a-f]*")


class Embedder(Protocol):
    """Turns texts into unit-length vectors for cosine search; one row per text, in order. `name`
    names the model and dimension (stored with each collection)."""

    name: str

    async def embed(self, texts: Sequence[str]) -> Vectors: ...


class LocalEmbedder(Embedder, Protocol):
    """An embedder that computes in-process (no I/O per call), so pure code may call it directly."""

    def vectors(self, texts: Sequence[str]) -> Vectors: ...


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
        self.name = f"hashed-tfidf-{dim}"
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


WORDLLAMA_CONFIG = "l2_supercat"
WORDLLAMA_DIM = 256


class ModelUnavailable(RuntimeError):
    """The semantic model's files are not installed (the `wordllama` package is missing or damaged)."""


def wordllama_files(config: str = WORDLLAMA_CONFIG, dim: int = WORDLLAMA_DIM) -> tuple[Path, Path]:
    """The weights and tokenizer files inside the installed `wordllama` package, found without
    importing it (its import configures the root logger)."""
    spec = importlib.util.find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable("the semantic embedder needs the `wordllama` package (pip install wordllama)")
    root = Path(next(iter(spec.submodule_search_locations)))
    weights = root / "weights" / f"{config}_{dim}.safetensors"
    tokenizer = root / "tokenizers" / f"{config}_tokenizer_config.json"
    for path in (weights, tokenizer):
        if not path.is_file():
            raise ModelUnavailable(f"wordllama file missing: {path}")
    return weights, tokenizer


def _clean(text: str) -> str:
    """What the model should read of a line: no `<*>` wildcards, no numbers or hex ids (they vary per
    line, and a sub-word model would spend most of a line's tokens on digits)."""
    words = [w for w in _WORD_OR_PUNCT.findall(_WILDCARD.sub(" ", text)) if not _NUMERIC.fullmatch(w)]
    return " ".join(words)


_WORD_OR_PUNCT = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?|[^\W_]+")
_NUMERIC = re.compile(r"(?:0x)?[0-9a-f]*[0-9][0-9a-f]*|[a-z]*\d[\w]*", re.IGNORECASE)


class SemanticEmbedder:
    """Mean-pooled WordLlama token embeddings (a static embedding model distilled from an LLM's token
    embeddings): paraphrases land close (`disk full` ~ `no space left on device`), which the
    hashed embedder cannot do. Pure CPU and fast (a tokenizer and a table lookup); thread-safe."""

    def __init__(self, config: str = WORDLLAMA_CONFIG, dim: int = WORDLLAMA_DIM) -> None:
        weights, tokenizer = wordllama_files(config, dim)
        try:  # wordllama's own dependencies
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ModelUnavailable(f"the semantic embedder needs {exc.name} (pip install wordllama)") from None
        self._table = np.ascontiguousarray(load_file(str(weights))["embedding.weight"], np.float32)
        self._tokenizer: Any = Tokenizer.from_file(str(tokenizer))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        # The BPE model keeps the tokens of up to 10,000 texts it has read, and this tokenizer has no
        # pre-tokenizer, so each key is a whole text. The texts embedded here (issues' sample lines,
        # templates) mostly come once: measured, 60,000 generated syslog messages grew the process by
        # 56 MB with that cache and not at all without it, at the same speed (also with 300 texts
        # read 200 times each). A worker's RSS grew with it for the whole of a million-line run.
        self._tokenizer.model._resize_cache(0)
        self.dim = int(self._table.shape[1])
        self.name = f"wordllama-{config}-{self.dim}"

    def vectors(self, texts: Sequence[str]) -> Vectors:
        """The embeddings of ``texts``; a text with nothing to read gets a fixed unit vector."""
        out = np.zeros((len(texts), self.dim), np.float32)
        if not texts:
            return out
        encoded = self._tokenizer.encode_batch([_clean(t) for t in texts], add_special_tokens=False)
        for row, enc in enumerate(encoded):
            ids = np.asarray(enc.ids, np.int64)
            ids = ids[(ids >= 0) & (ids < len(self._table))]
            if len(ids):
                out[row] = self._table[ids].mean(axis=0)
        norms = np.linalg.norm(out, axis=1)
        empty = norms == 0.0
        out[empty] = 1.0
        norms[empty] = math.sqrt(self.dim)
        return out / norms[:, None]

    async def embed(self, texts: Sequence[str]) -> Vectors:
        """The `Embedder` interface; the work is pure CPU, so it runs inline."""
        return self.vectors(texts)


@functools.lru_cache(maxsize=1)
def semantic_embedder() -> SemanticEmbedder:
    """The process's one semantic embedder (16 MB of weights, loaded once)."""
    return SemanticEmbedder()


def local_embedder(kind: str = "semantic", dim: int = 256) -> LocalEmbedder:
    """`semantic` (WordLlama, the default) or `hashed` (the fallback needing no model files, also used,
    with a warning, when the semantic model is not installed)."""
    if kind == "semantic":
        try:
            return semantic_embedder()
        except ModelUnavailable as exc:
            log.warning("semantic embedder unavailable (%s): using the hashed embedder", exc)
            return HashedTfidfEmbedder(dim)
    if kind == "hashed":
        return HashedTfidfEmbedder(dim)
    raise ValueError(f"unknown local embedder {kind!r}: use semantic or hashed")
