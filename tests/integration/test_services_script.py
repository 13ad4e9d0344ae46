"""`scripts/services` brings up real Kafka 4.1 (from the Maven Central jars), Redis and PostgreSQL,
reports them, and stops exactly what it started — shown here on a second set of ports and a
state folder of the test's own, so the suite's services are left alone."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
import redis

from streamapp.processes import free_port
from tests.support.kafka import list_topics
from tests.support.services import free_pair, services

pytestmark = pytest.mark.integration


async def test_up_status_down_on_other_ports(tmp_path: Path) -> None:
    kafka, rport, pport = free_pair(), free_port(), free_port()
    env = {
        "STREAMAPP_STATE_DIR": str(tmp_path / "state"),
        "KAFKA_BROKER_URL": f"kafka://127.0.0.1:{kafka}",
        "REDIS_URL": f"redis://127.0.0.1:{rport}/0",
        "DATABASE_URL": f"postgresql://streamapp:streamapp@127.0.0.1:{pport}/streamapp",
    }
    try:
        up = services("up", env=env)
        assert up.returncode == 0, up.stdout + up.stderr
        assert "Apache Kafka 4.1." in up.stdout and "KRaft" in up.stdout
        status = services("status", env=env)
        assert status.returncode == 0
        lines = status.stdout.splitlines()
        assert len(lines) == 3 and all(" up " in ln and "started here" in ln for ln in lines), status.stdout
        assert await list_topics(f"127.0.0.1:{kafka}") is not None
        assert redis.Redis(port=rport).ping()
        assert await _pg_select(pport) == 1
        again = services("up", env=env)  # idempotent
        assert again.returncode == 0 and again.stdout.count("already up") == 3
    finally:
        down = services("down", env=env)
    assert down.returncode == 0
    after = services("status", env=env)
    assert after.returncode == 3 and all(" down " in ln for ln in after.stdout.splitlines()), after.stdout


async def _pg_select(port: int) -> int:
    conn = await asyncpg.connect(f"postgresql://streamapp:streamapp@127.0.0.1:{port}/streamapp", timeout=10)
    try:
        return await conn.fetchval("select 1")
    finally:
        await conn.close()
