"""Reachability probes of the dependencies, for `/readyz`. Each has its own short timeout.

`/readyz` needs no credentials (load balancers ask it), so it must be cheap and say little: the
answer is computed at most once per `ttl_sec` however many ask (one run in flight, shared by all
who ask meanwhile), and a failure is a reason from a short fixed list; the exception's text (hosts,
users, sometimes more) goes to the log only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import asyncpg
import redis.asyncio as aioredis
from aiokafka.admin import AIOKafkaAdminClient

from connectors.kafka_admin import client_options
from streamapp.clock import Clock, SystemClock
from streamapp.settings import Settings

log = logging.getLogger(__name__)

Probe = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    latency_ms: float
    error: str = ""

    def as_json(self) -> dict:
        out: dict = {"ok": self.ok, "latency_ms": round(self.latency_ms, 1)}
        if self.error:
            out["error"] = self.error
        return out


def reason(exc: BaseException) -> str:
    """What an unauthenticated caller may learn of a failure."""
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, OSError | ConnectionError):
        return "unreachable"
    if "auth" in type(exc).__name__.lower() or "password" in type(exc).__name__.lower():
        return "authentication failed"
    return "error"


async def run_probe(name: str, probe: Probe, timeout: float) -> ProbeResult:
    start = time.perf_counter()
    try:
        await asyncio.wait_for(probe(), timeout)
    except Exception as exc:  # any failure means "not ready"; a fixed reason is reported, the text logged
        log.warning("readiness: %s: %s: %s", name, type(exc).__name__, exc)
        return ProbeResult(False, (time.perf_counter() - start) * 1000, reason(exc))
    return ProbeResult(True, (time.perf_counter() - start) * 1000)


class Readiness:
    """The probes' results, at most `ttl_sec` old; concurrent askers share one run."""

    def __init__(self, probes: Mapping[str, Probe], *, ttl_sec: float = 1.0, timeout_sec: float = 4.0,
                 clock: Clock | None = None) -> None:
        self.probes, self.ttl_sec, self.timeout_sec = dict(probes), ttl_sec, timeout_sec
        self.clock = clock or SystemClock()
        self.runs = 0
        self._last: tuple[float, dict[str, ProbeResult]] | None = None
        self._running: asyncio.Future[dict[str, ProbeResult]] | None = None

    async def results(self) -> dict[str, ProbeResult]:
        if self._last is not None and self.clock.now() - self._last[0] < self.ttl_sec:
            return self._last[1]
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(self._run())
        return await asyncio.shield(self._running)  # one asker going away does not cancel the others' run

    async def _run(self) -> dict[str, ProbeResult]:
        self.runs += 1
        found = await asyncio.gather(*(run_probe(n, p, self.timeout_sec) for n, p in self.probes.items()))
        results = dict(zip(self.probes, found, strict=True))
        self._last = (self.clock.now(), results)
        return results


def dependency_probes(settings: Settings) -> dict[str, Probe]:
    async def redis_probe() -> None:
        client = aioredis.from_url(settings.redis_url, socket_connect_timeout=2)
        try:
            await client.ping()
        finally:
            await client.aclose()

    async def kafka_probe() -> None:
        admin = AIOKafkaAdminClient(**client_options(settings), request_timeout_ms=3000)
        try:
            await admin.start()
            await admin.list_topics()
        finally:
            await admin.close()

    async def postgres_probe() -> None:
        conn = await asyncpg.connect(settings.database_url.get_secret_value(), timeout=3)
        try:
            await conn.fetchval("select 1")
        finally:
            await conn.close()

    return {"redis": redis_probe, "kafka": kafka_probe, "postgres": postgres_probe}
