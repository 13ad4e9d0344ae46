"""The producer manager: runs one producer per enabled data source, in one worker at a time.

It reconciles on start, on every change (LISTEN/NOTIFY from PostgreSQL) and every
`SOURCES_RECONCILE_SEC`: starts producers for new or re-enabled sources, stops those disabled or
deleted, restarts those whose row changed, and restarts a crashed producer with exponential
backoff. Only the holder of a Redis lease runs producers (several workers must not poll the same
source twice); the lease renewal is the heartbeat, and each producer's status is published to
Redis for the API (`GET /sources/{id}/status`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from mode import Service
from redis.exceptions import RedisError

from connectors.datasources import DataSourceStore
from connectors.lease import Lease
from connectors.redis_streams import connect
from connectors.sources.base import Emitter, Producer, SourceConfig
from connectors.sources.registry import PUSH_TYPES, producer_class
from streamapp.errors import ConfigError
from streamapp.settings import Settings

log = logging.getLogger(__name__)

@dataclass
class Running:
    producer: Producer
    fingerprint: str
    restarts: int = 0
    started: float = 0.0  # monotonic
    next_restart: float = 0.0  # monotonic: a crash is not restarted before this


def fingerprint(cfg: SourceConfig) -> str:
    """Changes when anything the producer was built from changes (secrets included, unprinted)."""
    basis = json.dumps([cfg.name, cfg.type, cfg.config, cfg.secrets], sort_keys=True, default=str)
    return hashlib.sha256(basis.encode()).hexdigest()


class ProducerManager(Service):
    def __init__(
        self,
        settings: Settings,
        *,
        store: Callable[[Settings], Awaitable[DataSourceStore]] = DataSourceStore.connect,
        registry: Callable[[str, dict], type[Producer]] = producer_class,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self._open_store = store
        self._registry = registry
        self.id = f"{settings.bridge_consumer}-{uuid.uuid4().hex[:6]}"
        self.running: dict[str, Running] = {}
        self.store: DataSourceStore | None = None
        self.redis: aioredis.Redis | None = None
        self._listener: Any = None
        self._poke = asyncio.Event()
        self.lease: Lease | None = None

    async def on_start(self) -> None:
        self.store = await self._open_store(self.settings)
        self.redis = connect(self.settings)
        self.lease = Lease(self.redis, self._key("sources:leader"), self.id, self.settings.sources_heartbeat_sec * 3)
        self._listener = await self.store.listen(lambda _id: self._poke.set())

    async def on_stop(self) -> None:
        await self.stop_all()
        if self._listener is not None:
            await self._listener.close()
        if self.store is not None:
            await self.store.close()
        if self.redis is not None:
            if self.lease is not None:
                await self.lease.release()
            await self.redis.aclose()

    def _key(self, name: str) -> str:
        return self.settings.redis_key(name)

    # ------------------------------------------------------------------------------- leadership
    async def hold_lease(self) -> bool:
        assert self.lease is not None
        was = self.lease.held
        if not await self.lease.hold() and was:
            log.warning("sources: lease lost to another manager; stopping producers")
            await self.stop_all()
        return self.lease.held

    # -------------------------------------------------------------------------------- reconcile
    async def reconcile(self) -> None:
        assert self.store is not None
        wanted = {c.id: c for c in await self.store.enabled_configs() if c.type not in PUSH_TYPES}
        for sid in list(self.running):
            if sid not in wanted:
                await self._stop(sid)
        now = time.monotonic()
        for sid, cfg in wanted.items():
            run = self.running.get(sid)
            if run is not None and run.fingerprint != fingerprint(cfg):
                await self._stop(sid)
                run = None
            if run is None:
                await self._start(cfg, restarts=0)
            elif run.producer.crashed and now >= run.next_restart:
                log.warning("sources: producer %s crashed (%s); restarting", cfg.name, run.producer.crash_reason)
                await self._stop(sid)
                await self._start(cfg, restarts=run.restarts + 1, why=f"crashed: {run.producer.crash_reason!r}")

    async def _start(self, cfg: SourceConfig, restarts: int, why: str = "") -> None:
        assert self.redis is not None
        try:
            cls = self._registry(cfg.type, cfg.config)
            await asyncio.to_thread(cls.check, cls.validate(cfg.config), self.settings)
        except ConfigError as exc:
            log.warning("sources: %s not started: %s", cfg.name, exc)
            return
        producer = cls(cfg, Emitter(self.redis, self.settings, cfg, self.lease))
        producer.status.restarts = restarts
        if why:  # the restarted producer reports why it was restarted until it succeeds
            producer.status.last_error, producer.status.last_error_at = why[:500], time.time()
        # Backoff for the next crash restart: 1 s, 2 s, 4 s ... up to 5 minutes.
        now = time.monotonic()
        self.running[cfg.id] = Running(producer, fingerprint(cfg), restarts, now, now + min(2.0**restarts, 300.0))
        await producer.start()

    async def _stop(self, sid: str) -> None:
        run = self.running.pop(sid, None)
        if run is not None:
            await run.producer.stop()
            run.producer.status.state = "stopped"
            await self.publish({sid: run})

    async def stop_all(self) -> None:
        for sid in list(self.running):
            await self._stop(sid)

    async def publish(self, runs: dict[str, Running] | None = None) -> None:
        """Each producer's status (and the manager's heartbeat) for the API, with a TTL."""
        assert self.redis is not None
        ttl = int(self.settings.sources_heartbeat_sec * 3) + 1
        async with self.redis.pipeline(transaction=False) as pipe:
            for sid, run in (runs if runs is not None else self.running).items():
                status = run.producer.status.as_dict()
                status.update(running=not run.producer.should_stop, crashed=run.producer.crashed,
                              source_type=run.producer.source.type, manager=self.id)
                if run.producer.crashed:
                    status["state"] = "crashed"
                    status["last_error"] = str(run.producer.crash_reason)[:500]
                pipe.set(self._key(f"source:{sid}:status"), json.dumps(status), ex=ttl)
            formats = {sid: fmt for sid, run in self.running.items() if (fmt := run.producer.format())}
            if formats:  # how the consumers parse each running source's lines (its configured format)
                pipe.hset(self._key("sources:formats"), mapping=formats)
            pipe.set(self._key("sources:heartbeat"), json.dumps({"manager": self.id, "at": time.time(),
                                                                  "running": len(self.running)}), ex=ttl)
            await pipe.execute()

    @Service.task
    async def _run(self) -> None:
        while not self.should_stop:
            try:
                if await self.hold_lease():
                    await self.reconcile()
                    await self.publish()
            except (RedisError, OSError, ConnectionError) as exc:
                log.warning("sources: reconcile skipped (%s)", exc)
            self._poke.clear()
            with contextlib.suppress(TimeoutError):  # woken early by a NOTIFY, else by the tick
                await asyncio.wait_for(self._poke.wait(), timeout=self._tick())

    def _tick(self) -> float:
        """Wake for the heartbeat, the reconcile interval, or the next crash restart."""
        due = [r.next_restart - time.monotonic() for r in self.running.values() if r.producer.crashed]
        return max(0.2, min([self.settings.sources_heartbeat_sec, self.settings.sources_reconcile_sec, *due]))
