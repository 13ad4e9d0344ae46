"""What the agents share in one worker: settings, topics, tables, clock, and lazily opened
connectors (the vector store opens on first use, inside the worker's event loop)."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import faust
import numpy as np

from streamapp.clock import Clock, SystemClock
from streamapp.embedding import Embedder
from streamapp.rules import RuleSet
from streamapp.settings import Settings
from streamapp.worker.topics import Topics

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from connectors.llm import LLMConnector
    from connectors.llm_health import LLMHealth
    from connectors.vector_process import AsyncVectorStore


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
    _redis: aioredis.Redis | None = None
    _vectors: AsyncVectorStore | None = None
    _vectors_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _template_vectors: OrderedDict[str, np.ndarray] = field(default_factory=OrderedDict)

    def redis(self) -> aioredis.Redis:
        """The worker's Redis client for agent-side state (verdict cache, feedback), created once."""
        if self._redis is None:
            from connectors.redis_streams import connect

            self._redis = connect(self.settings)
        return self._redis

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
