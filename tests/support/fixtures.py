"""Fixtures of tests on real services (integration and e2e): the local services, and an isolated
namespace per test (its own Kafka topics, Redis keys, consumer groups and data dir) so tests never
see each other's data."""

from __future__ import annotations

import contextlib
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis
from aiokafka.admin import AIOKafkaAdminClient

from connectors.kafka_admin import client_options
from streamapp.processes import free_port
from streamapp.sealing import new_key
from streamapp.settings import Settings, settings_for_env
from tests.conftest import REPO

SECRETS_KEY = new_key()  # seals the sources' secrets the tests store


@pytest.fixture(scope="session")
def services() -> None:
    """Kafka, Redis and PostgreSQL, started (or found running) by the project's own script."""
    subprocess.run([str(REPO / "scripts" / "services"), "up"], check=True, stdout=subprocess.DEVNULL)


@pytest.fixture
def env(services: None, tmp_path: Path) -> dict[str, str]:
    """Environment of one test's processes: unique app id, topic and stream prefixes."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    return {
        "STREAMAPP_ID": f"{prefix}app",
        "TOPIC_PREFIX": prefix,
        "STREAM_PREFIX": prefix,
        "DATABASE_SCHEMA": prefix.rstrip("."),
        "DATA_DIR": str(tmp_path / "worker"),
        "CHROMA_PATH": str(tmp_path / "chroma"),
        "WEB_PORT": str(free_port()),
        "API_PORT": str(free_port()),
        "BRIDGE_CLAIM_IDLE_MS": "1500",
        "BRIDGE_TRIM_INTERVAL_SEC": "1",
        "FILETAIL_ALLOWED_DIRS": str(tmp_path),  # the test's own files
        "SECRETS_KEY": SECRETS_KEY,
    }


@pytest.fixture
async def settings(env: dict[str, str]) -> AsyncIterator[Settings]:
    s = settings_for_env(env)
    yield s
    await cleanup(s)


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(settings.redis_url, decode_responses=False)
    yield client
    await client.aclose()


async def cleanup(s: Settings) -> None:
    """Drop the test's topics and keys (best effort: leftovers are isolated anyway)."""
    client = aioredis.from_url(s.redis_url)
    with contextlib.suppress(Exception):
        keys = [k async for k in client.scan_iter(match=f"{s.stream_prefix}*", count=1000)]
        for i in range(0, len(keys), 500):
            await client.delete(*keys[i : i + 500])
    await client.aclose()
    with contextlib.suppress(Exception):
        assert s.database_schema != "public"
        conn = await asyncpg.connect(s.database_url.get_secret_value(), timeout=10)
        try:
            await conn.execute(f'drop schema if exists "{s.database_schema}" cascade')
        finally:
            await conn.close()
    admin = AIOKafkaAdminClient(**client_options(s))
    with contextlib.suppress(Exception):
        await admin.start()
        ours = [t for t in await admin.list_topics() if t.startswith(s.topic_prefix) or t.startswith(s.streamapp_id)]
        if ours:
            await admin.delete_topics(ours)
    with contextlib.suppress(Exception):
        await admin.close()
