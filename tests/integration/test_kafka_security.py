"""Kafka with TLS and SASL (a private broker whose only client listener is SASL_SSL, its certificate
signed by a CA of its own): every client of the app (Faust's agents, both bridges, the admin that
creates topics) connects with the KAFKA_* security settings, and clients without them are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from connectors.kafka_admin import bootstrap_servers, client_options, ensure_topics
from streamapp.processes import free_port, start_worker
from streamapp.settings import Settings, settings_for_env
from tests.support.services import PrivateServices
from tests.support.streams import accounted_lines, eventually, xadd_lines

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def refused(s: Settings, **options: object) -> str:
    """Why an admin client with `options` cannot list topics (empty if it can)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers(s), request_timeout_ms=5000, **options)
    try:
        await admin.start()
        await admin.list_topics()
        return ""
    except (KafkaError, OSError) as exc:
        return type(exc).__name__
    finally:
        await admin.close()


async def test_the_pipeline_runs_on_sasl_ssl_and_others_are_refused(env: dict[str, str], tmp_path: Path) -> None:
    with PrivateServices(tmp_path / "services", security={
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "PLAIN", "KAFKA_SASL_USERNAME": "streamapp",
        "KAFKA_SASL_PASSWORD": "a-long-broker-password-for-tests",
        "KAFKA_SSL_CAFILE": str(tmp_path / "services" / "kafka" / "tls" / "ca.pem"),
    }) as svc:
        env = {**env, **svc.env, "ENABLE_SOURCES": "false", "ISSUE_INACTIVITY_SEC": "2", "WEB_PORT": str(free_port())}
        s = settings_for_env(env)
        await ensure_topics(s, {s.topic_name("probe"): 1})
        assert await refused(s), "a plaintext client is refused"
        wrong = {**client_options(s), "sasl_plain_password": "wrong"}
        del wrong["bootstrap_servers"]
        assert await refused(s, **wrong), "a wrong password is refused"

        worker = start_worker(env, tmp_path / "worker.log")
        client = aioredis.from_url(s.redis_url)
        try:
            ids = await xadd_lines(client, s.redis_key("logs"), ["Nov 28 10:00:00 web-01 app[1]: started"], "s")

            async def through() -> bool:  # inbound bridge, consumer, aggregator, outbound bridge
                return await accounted_lines(client, s) >= len(ids)

            await eventually(through, timeout=120)
        finally:
            await client.aclose()
            assert worker.terminate() == 0, worker.output()[-3000:]
