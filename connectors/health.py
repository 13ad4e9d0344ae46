"""Reachability probes of the dependencies, for `/readyz`. Each has its own short timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import redis.asyncio as aioredis
from aiokafka.admin import AIOKafkaAdminClient

from connectors.kafka_admin import client_options
from streamapp.settings import Settings

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


async def run_probe(probe: Probe, timeout: float) -> ProbeResult:
    start = time.perf_counter()
    try:
        await asyncio.wait_for(probe(), timeout)
    except Exception as exc:  # any failure means "not ready"; the reason is reported, not raised
        reason = "timeout" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
        return ProbeResult(False, (time.perf_counter() - start) * 1000, reason[:300])
    return ProbeResult(True, (time.perf_counter() - start) * 1000)


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
