"""The embedded vector store in a child process of its own, called from the event loop.

Chroma's embedded bindings keep Python's interpreter lock for the whole of a call (seconds for a
large add). In a worker thread that still stops the event loop, and every stage with it, for that
long; in another process it costs the loop nothing but the pickling of the call. The child is
`python -m connectors.vector_process`: it reads the settings, opens the store, then answers one call
at a time over its stdin/stdout (length-prefixed pickles), and exits when its stdin closes, so it
never outlives the worker, however the worker ends.
"""

from __future__ import annotations

import asyncio
import os
import pickle  # frames only ever come from our own parent or child process
import struct
import sys
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO

from connectors.vectorstore import (
    ChromaVectorStore,
    Embeddings,
    Kind,
    Metadata,
    Neighbour,
    Stored,
    VectorStore,
    Where,
)
from streamapp.errors import StreamAppError, TransientError
from streamapp.settings import Settings

CALL_TIMEOUT_SEC = 120.0  # a call longer than this means the child is stuck: it is restarted
_HEADER = struct.Struct(">I")


class VectorStoreError(StreamAppError):
    """The store in the child process refused a call (its message says why)."""


class VectorProcess:
    """Calls into the child, one at a time; a child that died or hung is replaced on the next call."""

    def __init__(self, settings: Settings, embedder: str = "") -> None:
        self.settings, self.embedder = settings, embedder
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        async with self._lock:
            try:
                reply = await asyncio.wait_for(self._exchange((method, args, kwargs)), CALL_TIMEOUT_SEC)
            except (OSError, EOFError, asyncio.IncompleteReadError, TimeoutError) as exc:
                await self._stop()
                raise TransientError(f"chroma: the vector store process failed ({exc!r}); restarted on the next call"
                                     ) from exc
            except BaseException:  # cancelled mid-call: the reply would be read as the next call's
                await self._stop()
                raise
        status, value = reply
        if status == "ok":
            return value
        raise {"value": ValueError, "transient": TransientError}.get(status, VectorStoreError)(value)

    async def close(self) -> None:
        async with self._lock:
            if self._proc is not None and self._proc.stdin is not None:
                self._proc.stdin.close()
                await self._proc.wait()
            self._proc = None

    async def _exchange(self, request: tuple) -> tuple[str, Any]:
        proc = await self._started()
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(_frame(request))
        await proc.stdin.drain()
        (size,) = _HEADER.unpack(await proc.stdout.readexactly(_HEADER.size))
        reply: tuple[str, Any] = pickle.loads(await proc.stdout.readexactly(size))  # noqa: S301 - our child
        return reply

    async def _started(self) -> asyncio.subprocess.Process:
        if self._proc is None or self._proc.returncode is not None:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "connectors.vector_process",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=child_env(os.environ),
            )
            assert self._proc.stdin is not None
            self._proc.stdin.write(_frame((self.settings, self.embedder)))
        return self._proc

    async def _stop(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.kill()
            await self._proc.wait()
        self._proc = None


def child_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The child's environment: at most two glibc malloc arenas unless the user chose a number.
    Chroma serves from threads, each of which may get an arena of its own (up to 8 per core) that
    keeps its high-water mark: over a million lines the child grew by 7-11 MiB late in the run,
    3 MiB with two arenas (`bench/memory_bench.py`)."""
    return {"MALLOC_ARENA_MAX": "2", **environ}


def _frame(obj: object) -> bytes:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(data)) + data


def _read(stream: BinaryIO) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    return pickle.loads(stream.read(size))  # noqa: S301 - our parent


def serve(requests: BinaryIO, replies: BinaryIO) -> None:
    """The child's loop: open the store the settings name, answer calls until the input closes."""
    opening = _read(requests)
    if opening is None:
        return
    settings, embedder = opening
    store, failure = None, ""
    try:
        store = ChromaVectorStore.from_settings(settings, embedder=embedder)
    except Exception as exc:  # every call then answers why the store could not open
        failure = f"vector store not opened: {type(exc).__name__}: {exc}"
    while (request := _read(requests)) is not None:
        method, args, kwargs = request
        reply: tuple[str, Any]
        if store is None:
            reply = ("transient", failure)
        else:
            try:
                reply = ("ok", getattr(store, method)(*args, **kwargs))
            except ValueError as exc:
                reply = ("value", str(exc))
            except TransientError as exc:
                reply = ("transient", str(exc))
            except Exception as exc:  # any other refusal goes back to the caller, named
                reply = ("error", f"{type(exc).__name__}: {exc}")
        replies.write(_frame(reply))
        replies.flush()
    if store is not None:
        store.close()


class AsyncVectorStore:
    """The same calls for the event loop, each run off it: in a worker thread for a store given
    (a server's HTTP client waits on sockets, which frees the interpreter), or in a child process
    holding the embedded store (`in_child_process`, see above)."""

    def __init__(self, store: VectorStore | None = None, *, child: VectorProcess | None = None) -> None:
        if (store is None) == (child is None):
            raise ValueError("either a store or a child process")
        self.store, self.child = store, child

    @classmethod
    def in_child_process(cls, settings: Settings, *, embedder: str = "") -> AsyncVectorStore:
        """The embedded store (`ChromaVectorStore.from_settings`) in a child process."""
        return cls(child=VectorProcess(settings, embedder))

    async def _run(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if self.child is not None:
            return await self.child.call(method, *args, **kwargs)
        return await asyncio.to_thread(getattr(self.store, method), *args, **kwargs)

    async def upsert(self, kind: Kind, os: str, ids: Sequence[str], embeddings: Embeddings,
                     metadatas: Sequence[Metadata] | None = None, documents: Sequence[str] | None = None) -> None:
        await self._run("upsert", kind, os, ids, embeddings, metadatas, documents)

    async def add_new(self, kind: Kind, os: str, ids: Sequence[str], embeddings: Embeddings,
                      metadatas: Sequence[Metadata] | None = None, documents: Sequence[str] | None = None) -> None:
        await self._run("add_new", kind, os, ids, embeddings, metadatas, documents)

    async def query(
        self, kind: Kind, os: str, embeddings: Embeddings, *, n_results: int = 10, where: Where | None = None
    ) -> list[list[Neighbour]]:
        hits: list[list[Neighbour]] = await self._run("query", kind, os, embeddings, n_results=n_results, where=where)
        return hits

    async def update_metadata(
        self, kind: Kind, os: str, ids: Sequence[str], metadata: Metadata | Sequence[Metadata]
    ) -> None:
        await self._run("update_metadata", kind, os, ids, metadata)

    async def get(
        self, kind: Kind, os: str, *, ids: Sequence[str] | None = None, where: Where | None = None
    ) -> list[Stored]:
        items: list[Stored] = await self._run("get", kind, os, ids=ids, where=where)
        return items

    async def count(self, kind: Kind, os: str) -> int:
        n: int = await self._run("count", kind, os)
        return n

    async def delete(self, kind: Kind, os: str, ids: Sequence[str]) -> None:
        await self._run("delete", kind, os, ids)

    async def close(self) -> None:
        if self.child is not None:
            await self.child.close()
        else:
            await asyncio.to_thread(self.store.close)  # type: ignore[union-attr]


if __name__ == "__main__":
    # Replies own the real stdout; anything a library prints goes to stderr instead.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, out)
