"""A real worker process: `faust -A ... worker` joins its group, moves records end to end through
the stream contract, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from connectors.kafka_admin import client_options, ensure_topics
from streamapp.processes import start_worker
from streamapp.records import Alert, IssueCandidate
from streamapp.settings import Settings
from tests.unit.test_records import PINNED

pytestmark = pytest.mark.integration


async def test_worker_joins_group_and_stops_cleanly(settings: Settings, env: dict[str, str], tmp_path: Path) -> None:
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        admin = AIOKafkaAdminClient(**client_options(settings))
        await admin.start()
        try:
            groups = {g[0] for g in await admin.list_consumer_groups()}
            described = await admin.describe_consumer_groups([settings.streamapp_id])
        finally:
            await admin.close()
        assert settings.streamapp_id in groups
        members = described[0].groups[0][5]  # (error, group, state, protocol_type, protocol, members)
        assert len(members) == 1, described
    finally:
        code = worker.terminate()
    assert code == 0, worker.output()[-3000:]


async def test_agent_outputs_reach_redis_streams_and_alert_hashes(
    settings: Settings, env: dict[str, str], redis: aioredis.Redis, tmp_path: Path
) -> None:
    worker = start_worker(env, tmp_path / "worker.log", app="tests.integration.echo_app")
    try:
        ids = []
        for i in range(120):
            ids.append((await redis.xadd(settings.redis_key("logs"), {"source": "t", "line": f"l{i}"})).decode())
        alerts_stream = settings.redis_key("alerts")
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            alerts = await redis.xrange(alerts_stream)
            got = {i for _, f in alerts for i in Alert.from_redis(f).log_ids}
            if got >= set(ids):
                break
            await asyncio.sleep(0.3)
        else:
            raise AssertionError(f"alerts cover {len(got)}/{len(ids)} lines")
        issues = await redis.xrange(settings.redis_key("issues_candidates"))
        assert issues
        for _, fields in issues:
            assert {k.decode() for k in fields} == PINNED[IssueCandidate]
            assert {item["id"] for item in IssueCandidate.from_redis(fields).logs} <= set(ids)
        for _, fields in alerts:
            assert {k.decode() for k in fields} == PINNED[Alert]
            alert = Alert.from_redis(fields)
            key = settings.redis_key(f"alert:{alert.id}")
            assert await redis.hget(key, "failure_type") == b"application_crash"
            assert 0 < await redis.ttl(key) <= settings.alerts_ttl_sec
    finally:
        assert worker.terminate() == 0


async def test_topics_are_created_with_the_replication_factor(settings: Settings) -> None:
    """TOPIC_REPLICATION_FACTOR reaches the broker: two replicas on a one-broker cluster are refused."""
    with pytest.raises(KafkaError, match="cannot create topic"):
        await ensure_topics(settings.model_copy(update={"topic_replication_factor": 2}),
                            {settings.topic_name("replicated"): 1})
