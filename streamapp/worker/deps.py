"""What the agents share in one worker: settings, topics, tables, clock, and lazily opened
connectors (the vector store opens on first use, inside the worker's event loop). Agents reach Redis
only through the connectors built here, on the worker's one client; a unit test puts a connector's
in-memory twin in `connectors` under its name instead."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import faust
import numpy as np

from streamapp.clock import Clock, SystemClock
from streamapp.embedding import Embedder
from streamapp.rules import RuleSet
from streamapp.settings import Settings
from streamapp.worker.topics import Topics

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from connectors.alert_store import AlertGroups
    from connectors.llm import LLMConnector
    from connectors.llm_health import LLMHealth
    from connectors.redis_streams import GroupReader, StreamWriter
    from connectors.source_formats import SourceFormats
    from connectors.toggles import Toggles
    from connectors.vector_process import AsyncVectorStore
    from connectors.verdicts import VerdictCache

C = TypeVar("C")


@dataclass
class Deps:
    app: faust.App
    settings: Settings
    topics: Topics
    rules: RuleSet
    embedder: Embedder
    clock: Clock = field(default_factory=SystemClock)
    tables: dict[str, faust.Table] = field(default_factory=dict)
    template_cache_size: int = 50_000
    llm: LLMConnector | None = None
    llm_health: LLMHealth | None = None
    connectors: dict[str, Any] = field(default_factory=dict)  # Redis-backed connectors by name, built once
    _redis: aioredis.Redis | None = None
    _vectors: AsyncVectorStore | None = None
    _vectors_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _template_vectors: OrderedDict[str, np.ndarray] = field(default_factory=OrderedDict)

    def _connector(self, name: str, build: Callable[[aioredis.Redis], C]) -> C:
        """The connector `name`, built on first use on the worker's Redis client (created once)."""
        if name not in self.connectors:
            if self._redis is None:
                from connectors.redis_streams import connect

                self._redis = connect(self.settings)
            self.connectors[name] = build(self._redis)
        connector: C = self.connectors[name]
        return connector

    def verdict_cache(self) -> VerdictCache:
        from connectors.verdicts import VerdictCache

        return self._connector("verdict_cache", lambda r: VerdictCache(r, self.settings))

    def alert_groups(self) -> AlertGroups:
        from connectors.alert_store import AlertGroups

        return self._connector("alert_groups", lambda r: AlertGroups(r, self.settings))

    def source_formats(self) -> SourceFormats:
        from connectors.source_formats import SourceFormats

        return self._connector("source_formats", lambda r: SourceFormats(r, self.settings))

    def toggles(self, cache_sec: float) -> Toggles:
        from connectors.toggles import Toggles

        return self._connector("toggles", lambda r: Toggles(r, self.settings, cache_sec=cache_sec, clock=self.clock))

    def stream_writer(self) -> StreamWriter:
        from connectors.redis_streams import StreamWriter

        return self._connector("stream_writer", lambda r: StreamWriter(r, self.settings))

    def group_reader(self, stream: str, group: str, consumer: str, *, count: int) -> GroupReader:
        """A consumer of `group` on the stream named `stream` (the key prefix is applied here)."""
        from connectors.redis_streams import GroupReader

        return self._connector(f"group:{stream}:{group}", lambda r: GroupReader(
            r, self.settings.redis_key(stream), group, consumer, count=count))

    def llm_usable(self) -> bool:
        """An LLM is configured and its last health check did not find it down."""
        return self.llm is not None and (self.llm_health is None or self.llm_health.status.state != "unavailable")

    async def template_vectors(self, templates: Mapping[str, str]) -> dict[str, np.ndarray]:
        """Embeddings of templates by id by the configured embedder, each computed once (LRU-bounded
        cache), the missing ones in one call."""
        cache = self._template_vectors
        missing = [tid for tid in templates if tid not in cache]
        if missing:
            rows = await self.embedder.embed([templates[t] for t in missing])
            for tid, row in zip(missing, rows, strict=True):
                cache[tid] = row
        out = {}
        for tid in templates:
            cache.move_to_end(tid)
            out[tid] = cache[tid]
        while len(cache) > self.template_cache_size:
            cache.popitem(last=False)
        return out

    async def vectors(self) -> AsyncVectorStore:
        """The vector store, opened once: the server at CHROMA_URL through a client here, or
        embedded Chroma in a child process of its own (`connectors.vector_process` says why)."""
        async with self._vectors_lock:
            if self._vectors is None:
                from connectors.vector_process import AsyncVectorStore
                from connectors.vectorstore import ChromaVectorStore

                if self.settings.chroma_url:
                    store = await asyncio.to_thread(ChromaVectorStore.from_settings, self.settings,
                                                    embedder=self.embedder.name)
                    self._vectors = AsyncVectorStore(store)
                else:
                    self._vectors = AsyncVectorStore.in_child_process(self.settings, embedder=self.embedder.name)
        return self._vectors
