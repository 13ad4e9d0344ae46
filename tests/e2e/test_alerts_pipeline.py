"""Enrichment end to end on real services: the real Linux lines become alerts (with the LLM double,
and with no LLM), a replay adds no alert and no LLM call, and alerts keep flowing when the LLM is
down while `/readyz` says so."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from streamapp.processes import BIN, Proc, free_port, start_worker
from streamapp.records import Alert, ClosedIssue
from streamapp.settings import Settings
from streamapp.taxonomy import FailureType, Severity
from tests.doubles.llm_double import LLMDouble
from tests.support.kafka import read_topic
from tests.support.streams import accounted_lines, eventually, records, xadd_lines

pytestmark = pytest.mark.e2e

BASE = {"ISSUE_INACTIVITY_SEC": "3", "SOURCE_FORMATS": '{"Linux.log": "linux"}'}


@pytest.fixture
def linux_lines(loghub_dir: Path) -> list[str]:
    return (loghub_dir / "Linux" / "Linux_2k.log").read_text().splitlines()


async def run_until_alerts_settle(redis: aioredis.Redis, settings: Settings, n_lines: int) -> list[Alert]:
    """Wait until every line is in a closed issue, then until the alert count stops changing."""

    async def accounted() -> bool:
        return await accounted_lines(redis, settings) >= n_lines

    await eventually(accounted, timeout=300)
    key = settings.redis_key("alerts")
    last, stable_since = -1, time.monotonic()
    while time.monotonic() - stable_since < 8:
        n = await redis.xlen(key)
        if n != last:
            last, stable_since = n, time.monotonic()
        await _sleep(0.5)
    return [a for _, a in await records(redis, key, Alert)]


async def _sleep(s: float) -> None:
    import asyncio

    await asyncio.sleep(s)


async def check_alerts(redis: aioredis.Redis, settings: Settings, alerts: list[Alert], ids: set[str]) -> None:
    assert alerts
    for a in alerts:
        assert a.failure_type in FailureType.__members__.values() and a.failure_type != "benign"
        assert a.severity in Severity.__members__.values()
        assert 0 <= a.confidence <= 1 and a.summary
        assert a.log_ids and set(a.log_ids) <= ids, "evidence cites lines that exist"
        assert a.result["failure_type"] == a.failure_type
        key = settings.redis_key(f"alert:{a.id}")
        assert (await redis.hget(key, "summary")).decode() == a.summary
        assert 0 < await redis.ttl(key) <= settings.alerts_ttl_sec


async def test_offline_classifier_alerts(
    settings: Settings, env: dict[str, str], redis: aioredis.Redis, tmp_path: Path, linux_lines: list[str]
) -> None:
    worker = start_worker({**env, **BASE, "LLM_PROVIDER": "none"}, tmp_path / "worker.log")
    try:
        ids = await xadd_lines(redis, settings.redis_key("logs"), linux_lines, "Linux.log")
        alerts = await run_until_alerts_settle(redis, settings, len(ids))
    finally:
        assert worker.terminate() == 0
    await check_alerts(redis, settings, alerts, set(ids))
    assert {a.classifier for a in alerts} <= {"offline-v1", "offline-v1+operator-label"}
    assert "security_auth" in {a.failure_type for a in alerts}, "the ssh brute force of this log is found"
    print(f"{len(alerts)} alerts: {sorted({a.failure_type for a in alerts})}")


async def test_llm_alerts_and_a_replay_costs_nothing(
    settings: Settings, env: dict[str, str], redis: aioredis.Redis, tmp_path: Path, linux_lines: list[str]
) -> None:
    with LLMDouble("openai") as llm:
        # Issue boundaries follow processing time: a long window keeps them the same in the replay,
        # so the replayed candidates are the same candidates (same ids, same templates).
        llm_env = {
            **env, **BASE, "ISSUE_INACTIVITY_SEC": "15", "LLM_PROVIDER": "openai", "LLM_BASE_URL": llm.url,
            "LLM_API_KEY": llm.api_key, "LLM_MODEL": llm.model,
        }
        worker = start_worker(llm_env, tmp_path / "worker.log")
        try:
            ids = await xadd_lines(redis, settings.redis_key("logs"), linux_lines, "Linux.log")
            alerts = await run_until_alerts_settle(redis, settings, len(ids))
        finally:
            assert worker.terminate() == 0
        await check_alerts(redis, settings, alerts, set(ids))
        assert all(a.classifier.startswith(f"llm:{llm.model}") for a in alerts), {a.classifier for a in alerts}
        chats = [c for c in llm.calls if c.path.endswith("/chat/completions")]
        assert chats, "the LLM was asked"

        # Replay: a new consumer group (another app id, empty data dir) reads every topic from the start.
        replay_env = {**llm_env, "STREAMAPP_ID": env["STREAMAPP_ID"] + "-replay", "DATA_DIR": str(tmp_path / "replay"),
                      "WEB_PORT": str(free_port())}
        first = len(await read_topic(settings, settings.topic_name("alerts"), lambda v: False, timeout=5))
        replay = start_worker(replay_env, tmp_path / "replay.log")
        try:
            # On Kafka the replay re-emits every alert (same ids); Redis must keep one of each.
            await read_topic(settings, settings.topic_name("alerts"), lambda v: len(v) >= 2 * first, timeout=300)
            await _sleep(3)  # the outbound bridge's last batch
        finally:
            assert replay.terminate() == 0
        closed = settings.redis_key(settings.stream_issues_closed)
        again = [a for _, a in await records(redis, settings.redis_key("alerts"), Alert)]
        assert len(again) == len(alerts), "a replay creates no new alert"
        assert [c for c in llm.calls if c.path.endswith("/chat/completions")] == chats, "and no new LLM call"
        assert sum(c.line_count for _, c in await records(redis, closed, ClosedIssue)) == len(ids)


async def test_llm_down_offline_answers_and_readyz_says_so(
    settings: Settings, env: dict[str, str], redis: aioredis.Redis, tmp_path: Path, linux_lines: list[str]
) -> None:
    down_env = {**env, **BASE, "LLM_PROVIDER": "openai", "LLM_API_KEY": "sk-test-not-used",
                "LLM_BASE_URL": f"http://127.0.0.1:{free_port()}/v1", "LLM_TIMEOUT_SEC": "2"}
    worker = start_worker(down_env, tmp_path / "worker.log")
    api = Proc([str(BIN / "streamapp"), "api"], down_env, tmp_path / "api.log", "Uvicorn running")
    try:
        api.wait_ready()
        ids = await xadd_lines(redis, settings.redis_key("logs"), linux_lines[:600], "Linux.log")
        alerts = await run_until_alerts_settle(redis, settings, len(ids))
        async with httpx.AsyncClient(timeout=10) as http:
            ready = (await http.get(f"http://127.0.0.1:{down_env['API_PORT']}/readyz")).json()
    finally:
        api.terminate()
        assert worker.terminate() == 0
    await check_alerts(redis, settings, alerts, set(ids))
    assert all(a.classifier.startswith("offline") for a in alerts)
    assert ready["llm"]["state"] == "unavailable" and ready["degraded"] is True
    assert "sk-test-not-used" not in (tmp_path / "worker.log").read_text() + (tmp_path / "api.log").read_text()
