"""The vector store: templates, lines and prototypes per OS in ChromaDB, searched by cosine distance.

Collections are `templates_<os>`, `logs_<os>` and `proto_<os>`. Embedded (`PersistentClient` on
`CHROMA_PATH`) unless `CHROMA_URL` names a server. We always hand Chroma our own vectors: collections
are opened with no embedding function, so Chroma never loads (or downloads) its default model, and
asking it to embed text fails loudly instead. Telemetry is off. Each collection records the embedder
that filled it (`embedder` in its metadata, a name that includes the model and dimension): opened
with another embedder, it is dropped and re-created empty, with a warning in the log, since vectors
of two models cannot be compared.

chromadb is synchronous: `ChromaVectorStore` is the core the CLI uses; agents use `AsyncVectorStore`
(`connectors.vector_process`), which runs each call off the event loop: a server's client in a worker
thread, the embedded store in a child process (its bindings hold the interpreter lock for a whole
call, which in a thread would stop the loop just the same).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import chromadb
import httpx
import numpy as np
import numpy.typing as npt
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings

from streamapp.errors import ConfigError, TransientError
from streamapp.settings import Settings

Kind = Literal["templates", "logs", "proto"]
Metadata = Mapping[str, str | int | float | bool]
Where = dict[str, Any]
"""A Chroma `where` filter, e.g. ``{"$and": [{"level": "ERROR"}, {"host": "n1"}]}``."""
Embeddings = npt.NDArray[np.float32] | Sequence[Sequence[float]]

log = logging.getLogger(__name__)

SYSTEM = "chroma"
_NUDGE = 1e-3
_UNSAFE = re.compile(r"[^a-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class Stored:
    """One stored item as `get` returns it."""

    id: str
    metadata: dict[str, Any]
    document: str | None


@dataclass(frozen=True, slots=True)
class Neighbour(Stored):
    """One query hit; ``distance`` is cosine distance (0 = same direction, 2 = opposite), exact to
    about 1e-3 (stored vectors are nudged apart, see `ChromaVectorStore.upsert`)."""

    distance: float


class VectorStore(Protocol):
    """What the pipeline needs from a vector store; every call names the collection by kind and OS."""

    def upsert(
        self,
        kind: Kind,
        os: str,
        ids: Sequence[str],
        embeddings: Embeddings,
        metadatas: Sequence[Metadata] | None = None,
        documents: Sequence[str] | None = None,
    ) -> None: ...

    def add_new(
        self,
        kind: Kind,
        os: str,
        ids: Sequence[str],
        embeddings: Embeddings,
        metadatas: Sequence[Metadata] | None = None,
        documents: Sequence[str] | None = None,
    ) -> None: ...

    def query(
        self, kind: Kind, os: str, embeddings: Embeddings, *, n_results: int = 10, where: Where | None = None
    ) -> list[list[Neighbour]]: ...

    def update_metadata(
        self, kind: Kind, os: str, ids: Sequence[str], metadata: Metadata | Sequence[Metadata]
    ) -> None: ...

    def get(
        self, kind: Kind, os: str, *, ids: Sequence[str] | None = None, where: Where | None = None
    ) -> list[Stored]: ...

    def count(self, kind: Kind, os: str) -> int: ...

    def delete(self, kind: Kind, os: str, ids: Sequence[str]) -> None: ...

    def close(self) -> None: ...


def collection_name(kind: Kind, os: str) -> str:
    """`<kind>_<os>`, with the OS reduced to the characters Chroma allows in a name."""
    return f"{kind}_{_UNSAFE.sub('-', os.lower()).strip('._-') or 'unknown'}"


def open_client(*, path: Path, url: str = "", timeout: float = 30.0) -> ClientAPI:
    """A Chroma client: embedded on ``path``, or a server at ``url`` with every request bounded by
    ``timeout`` seconds. An unreachable server raises `TransientError` (within the timeout)."""
    settings = ChromaSettings(anonymized_telemetry=False)
    if not url:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=path, settings=settings)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"CHROMA_URL must be http(s)://host[:port], got {url!r}")
    # The client probes the server as it is built, with no timeout; probe first with ours.
    with _transport_errors():
        httpx.get(f"{url.rstrip('/')}/api/v2/heartbeat", timeout=timeout).raise_for_status()
        client = chromadb.HttpClient(
            host=parts.hostname,
            port=parts.port or (443 if parts.scheme == "https" else 8000),
            ssl=parts.scheme == "https",
            settings=settings,
        )
    for session in _http_sessions(client):
        session.timeout = httpx.Timeout(timeout)
    return client


def _http_sessions(client: ClientAPI) -> list[httpx.Client]:
    """The HTTP client's connection pools: its own and its admin client's. chromadb 1.5.9 builds them
    with ``timeout=None``, offers no setting for it, and never closes them; we do both ourselves."""
    owners: list[Any] = [client, getattr(client, "_admin_client", None)]
    return [owner._server._session for owner in owners if owner is not None]


class ChromaVectorStore:
    """`VectorStore` on a Chroma client; collections are created on first use with cosine space."""

    def __init__(self, client: ClientAPI, embedder: str = "") -> None:
        """`embedder` names the embedder whose vectors this store receives ("" = do not check)."""
        self._client = client
        self.embedder = embedder
        self._max_batch = client.get_max_batch_size()
        self._collections: dict[str, Collection] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, *, timeout: float = 30.0, embedder: str = "") -> ChromaVectorStore:
        """The store `CHROMA_URL` / `CHROMA_PATH` point at, for vectors of `embedder`."""
        return cls(open_client(path=settings.chroma_path, url=settings.chroma_url, timeout=timeout), embedder)

    def upsert(
        self,
        kind: Kind,
        os: str,
        ids: Sequence[str],
        embeddings: Embeddings,
        metadatas: Sequence[Metadata] | None = None,
        documents: Sequence[str] | None = None,
    ) -> None:
        """Insert or replace whole items by id: one delete and one add per batch (split only past the
        client's maximum). A replaced item keeps nothing of its old self, not even metadata set later
        with `update_metadata`; a repeated id within the batch keeps its last occurrence.

        Chroma's in-place update (its `upsert` of an existing id) leaves the HNSW graph unable to
        answer filtered queries (measured on 1.5.9: most came back short), hence delete and add. A
        crash between the two loses the batch until it is replayed, which acknowledging after the
        hand-off provides. Vectors are nudged apart, see `_separate`.
        """
        self._write(kind, os, ids, embeddings, metadatas, documents, replace=True)

    def add_new(
        self,
        kind: Kind,
        os: str,
        ids: Sequence[str],
        embeddings: Embeddings,
        metadatas: Sequence[Metadata] | None = None,
        documents: Sequence[str] | None = None,
    ) -> None:
        """Insert items whose ids are not stored yet; stored ids are left as they are (Chroma 1.5.9
        ignores an `add` of an existing id). For immutable items such as log lines this makes a
        replay idempotent at half the cost of `upsert` (no delete)."""
        self._write(kind, os, ids, embeddings, metadatas, documents, replace=False)

    def _write(
        self,
        kind: Kind,
        os: str,
        ids: Sequence[str],
        embeddings: Embeddings,
        metadatas: Sequence[Metadata] | None,
        documents: Sequence[str] | None,
        *,
        replace: bool,
    ) -> None:
        vectors = _matrix(embeddings)
        _check_lengths(ids, embeddings=vectors, metadatas=metadatas, documents=documents)
        last = {item_id: i for i, item_id in enumerate(ids)}
        keep = sorted(last.values())
        collection = self._collection(kind, os)
        for start in range(0, len(keep), self._max_batch):
            rows = keep[start : start + self._max_batch]
            batch_ids = [ids[i] for i in rows]
            with _transport_errors():
                if replace:
                    collection.delete(ids=batch_ids)
                collection.add(
                    ids=batch_ids,
                    embeddings=_separate(batch_ids, vectors[rows]),
                    metadatas=_metadatas([metadatas[i] for i in rows]) if metadatas else None,
                    documents=[documents[i] for i in rows] if documents else None,
                )

    def query(
        self, kind: Kind, os: str, embeddings: Embeddings, *, n_results: int = 10, where: Where | None = None
    ) -> list[list[Neighbour]]:
        """The ``n_results`` nearest items to each query vector, nearest first, among those ``where``
        keeps (fewer if fewer match)."""
        vectors = _matrix(embeddings)
        if len(vectors) == 0:
            return []
        with _transport_errors():
            result = self._collection(kind, os).query(
                query_embeddings=vectors,
                n_results=n_results,
                where=where or None,
                include=["metadatas", "documents", "distances"],
            )
        return [
            [
                Neighbour(id=i, distance=float(d), metadata=dict(m or {}), document=doc)
                for i, d, m, doc in zip(ids, distances, metadatas, documents, strict=True)
            ]
            for ids, distances, metadatas, documents in zip(
                result["ids"],
                result["distances"] or [],
                result["metadatas"] or [],
                result["documents"] or [],
                strict=True,
            )
        ]

    def update_metadata(self, kind: Kind, os: str, ids: Sequence[str], metadata: Metadata | Sequence[Metadata]) -> None:
        """Merge ``metadata`` (one mapping for all ids, or one per id) into stored items, one call.

        Keys not named are kept; unknown ids are ignored.
        """
        if not ids:
            return
        per_id = [metadata] * len(ids) if isinstance(metadata, Mapping) else list(metadata)
        _check_lengths(ids, metadatas=per_id)
        collection = self._collection(kind, os)
        for start in range(0, len(ids), self._max_batch):
            with _transport_errors():
                collection.update(
                    ids=list(ids[start : start + self._max_batch]),
                    metadatas=_metadatas(per_id[start : start + self._max_batch]),
                )

    def get(self, kind: Kind, os: str, *, ids: Sequence[str] | None = None, where: Where | None = None) -> list[Stored]:
        """Stored items by id and/or filter (all items if neither is given)."""
        with _transport_errors():
            result = self._collection(kind, os).get(
                ids=list(ids) if ids is not None else None,
                where=where or None,
                include=["metadatas", "documents"],
            )
        return [
            Stored(id=i, metadata=dict(m or {}), document=doc)
            for i, m, doc in zip(result["ids"], result["metadatas"] or [], result["documents"] or [], strict=True)
        ]

    def count(self, kind: Kind, os: str) -> int:
        """How many items the collection holds."""
        with _transport_errors():
            return self._collection(kind, os).count()

    def delete(self, kind: Kind, os: str, ids: Sequence[str]) -> None:
        """Remove items by id (unknown ids are ignored)."""
        collection = self._collection(kind, os)
        for start in range(0, len(ids), self._max_batch):
            with _transport_errors():
                collection.delete(ids=list(ids[start : start + self._max_batch]))

    def close(self) -> None:
        """Release the client (for the embedded store: its files, so another process may open them)."""
        if self._client.get_settings().chroma_api_impl == "chromadb.api.fastapi.FastAPI":
            for session in _http_sessions(self._client):
                session.close()
        # `close` is on chromadb's concrete `Client`, not on the `ClientAPI` type
        self._client.close()  # type: ignore[attr-defined]

    def _collection(self, kind: Kind, os: str) -> Collection:
        name = collection_name(kind, os)
        with self._lock:
            if name not in self._collections:
                with _transport_errors():
                    self._collections[name] = self._open(name)
            return self._collections[name]

    def _open(self, name: str) -> Collection:
        """The collection, created if missing, re-created if another embedder filled it."""
        meta = {"embedder": self.embedder} if self.embedder else None
        collection = self._client.get_or_create_collection(
            name, configuration={"hnsw": {"space": "cosine"}}, metadata=meta, embedding_function=None
        )
        built_by = (collection.metadata or {}).get("embedder")
        if not self.embedder or built_by == self.embedder:
            return collection
        log.warning(
            "vector store: collection %s was built by embedder %s, now %s: re-creating it (%d items dropped; "
            "templates, lines and prototypes are indexed again as they arrive)",
            name, built_by or "unknown (before embedders were recorded)", self.embedder, collection.count(),
        )
        self._client.delete_collection(name)
        return self._client.create_collection(
            name, configuration={"hnsw": {"space": "cosine"}}, metadata=meta, embedding_function=None
        )


def _matrix(embeddings: Embeddings) -> npt.NDArray[np.float32]:
    vectors = np.asarray(embeddings, np.float32)
    if vectors.size == 0:
        return vectors.reshape(0, 0)
    if vectors.ndim != 2:
        raise ValueError(f"embeddings must be one row per item, got shape {vectors.shape}")
    return vectors


def _separate(ids: Sequence[str], vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Unit rows, each moved by a tiny id-seeded offset of norm `_NUDGE`.

    Log lines of one template embed to exactly the same vector, and HNSW degrades on exact
    duplicates: filtered queries came back short. The offset (deterministic, so a replay writes the
    same vector) breaks the ties while moving cosine distances by at most about `_NUDGE`.
    """
    out = vectors.astype(np.float64)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    out /= np.where(norms == 0.0, 1.0, norms)
    for row, item_id in enumerate(ids):
        seed = int.from_bytes(hashlib.blake2b(item_id.encode(), digest_size=8).digest(), "big")
        offset = np.random.default_rng(seed).standard_normal(out.shape[1])
        out[row] += offset * (_NUDGE / np.linalg.norm(offset))
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def _metadatas(items: Sequence[Metadata]) -> list[Any]:
    # Chroma rejects an empty mapping but accepts "no metadata" (None; its type hints disagree).
    return [dict(m) if m else None for m in items]


def _check_lengths(ids: Sequence[str], **columns: Sequence[Any] | npt.NDArray[Any] | None) -> None:
    for name, column in columns.items():
        if column is not None and len(column) != len(ids):
            raise ValueError(f"{len(ids)} ids but {len(column)} {name}")


@contextmanager
def _transport_errors() -> Iterator[None]:
    """A server that cannot be reached in time, or is unhealthy, is a `TransientError`; Chroma's own
    errors (bad argument, dimension mismatch) pass unchanged."""
    try:
        yield
    except httpx.HTTPError as exc:
        raise TransientError(f"{SYSTEM}: {exc!r}") from exc
