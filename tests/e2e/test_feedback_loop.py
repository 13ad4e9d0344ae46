"""Operators teach the analyzer: feedback on an alert relabels its prototype (prototype improver),
and the next alert from a similar issue carries the corrected type — also when the improver died
between reading the feedback and acknowledging it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from streamapp.processes import BIN, Proc, free_port, start_worker
from streamapp.records import Alert
from streamapp.settings import Settings
from tests.support.streams import eventually, records, xadd_lines

pytestmark = pytest.mark.e2e

TOKEN = "feedback-loop-token-of-the-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DISK = [
    "Nov 28 10:00:{s:02d} {host} kernel: blk_update_request: I/O error, dev sda, sector {n} op 0x0:(READ) flags 0x0",
    "Nov 28 10:00:{s:02d} {host} kernel: Buffer I/O error on dev sda1, logical block {n}, async page read",
]


def burst(host: str, n: int = 6) -> list[str]:
    return [DISK[i % 2].format(s=i, n=1000 + 17 * i, host=host) for i in range(n)]


@pytest.fixture
def loop_env(env: dict[str, str]) -> dict[str, str]:
    return {
        **env, "ADMIN_TOKEN": TOKEN, "LLM_PROVIDER": "none", "ISSUE_INACTIVITY_SEC": "2",
        "PROTOTYPE_IMPROVER_INTERVAL_SEC": "1", "PROTOTYPE_IMPROVER_CLAIM_IDLE_SEC": "2",
    }


async def alert_for(redis: aioredis.Redis, settings: Settings, host: str) -> Alert:
    async def found() -> Alert | None:
        alerts = [a for _, a in await records(redis, settings.redis_key("alerts"), Alert)]
        return next((a for a in alerts if a.type == "issue" and a.host == host), None)

    return await eventually(found, timeout=120)


async def prototype(http: httpx.AsyncClient, web: str, pid: str) -> dict | None:
    r = await http.get(f"{web}/prototypes/linux/{pid}/", headers=AUTH)
    return r.json() if r.status_code == 200 else None


async def teach_and_check(
    http: httpx.AsyncClient, redis: aioredis.Redis, settings: Settings, web: str, first: Alert
) -> dict:
    """Wait for the prototype to be relabelled by the improver; return it."""

    async def relabelled() -> dict | None:
        proto = await prototype(http, web, first.prototype_id)
        return proto if proto and proto["label"] == "hardware_memory" and proto["labelled_by"] == "operator" else None

    return await eventually(relabelled, timeout=90)


async def test_feedback_relabels_the_prototype_and_the_next_alert(
    settings: Settings, loop_env: dict[str, str], redis: aioredis.Redis, tmp_path: Path
) -> None:
    worker = start_worker(loop_env, tmp_path / "worker.log")
    api = Proc([str(BIN / "streamapp"), "api"], loop_env, tmp_path / "api.log", "Uvicorn running")
    web, base = f"http://127.0.0.1:{loop_env['WEB_PORT']}", f"http://127.0.0.1:{loop_env['API_PORT']}"
    try:
        api.wait_ready()
        await xadd_lines(redis, settings.redis_key("logs"), burst("stor-01"), "s1.log")
        first = await alert_for(redis, settings, "stor-01")
        assert first.failure_type == "hardware_disk" and first.prototype_id
        async with httpx.AsyncClient(timeout=10) as http:
            await eventually(lambda: prototype(http, web, first.prototype_id), timeout=60)
            correction = {"verdict": "incorrect", "failure_type": "hardware_memory", "note": "it was a DIMM"}
            r = await http.post(f"{base}/alerts/{first.id}/feedback", headers=AUTH, json=correction)
            assert r.status_code == 200, r.text
            proto = await teach_and_check(http, redis, settings, web, first)
            assert proto["member_count"] == 1
            await xadd_lines(redis, settings.redis_key("logs"), burst("stor-02"), "s2.log")
            second = await alert_for(redis, settings, "stor-02")
    finally:
        api.terminate()
        assert worker.terminate() == 0, worker.output()[-3000:]
    assert second.failure_type == "hardware_memory", second.classifier  # the operator's label decided
    assert second.prototype_id == first.prototype_id


async def test_improver_killed_mid_run_loses_no_feedback(
    settings: Settings, loop_env: dict[str, str], redis: aioredis.Redis, tmp_path: Path
) -> None:
    worker = start_worker(loop_env, tmp_path / "worker.log")
    api = Proc([str(BIN / "streamapp"), "api"], loop_env, tmp_path / "api.log", "Uvicorn running")
    web, base = f"http://127.0.0.1:{loop_env['WEB_PORT']}", f"http://127.0.0.1:{loop_env['API_PORT']}"
    feedback = settings.redis_key(settings.stream_feedback)
    try:
        api.wait_ready()
        await xadd_lines(redis, settings.redis_key("logs"), burst("stor-03"), "s3.log")
        first = await alert_for(redis, settings, "stor-03")
        async with httpx.AsyncClient(timeout=10) as http:
            before = await eventually(lambda: prototype(http, web, first.prototype_id), timeout=60)
            worker.kill()  # no improver runs while the feedback arrives
            r = await http.post(f"{base}/alerts/{first.id}/feedback", headers=AUTH,
                                json={"verdict": "incorrect", "failure_type": "hardware_memory"})
            assert r.status_code == 200, r.text
            # An improver that read the feedback and died before acknowledging it:
            got = await redis.xreadgroup("prototype_improver", "dead-improver", {feedback: ">"}, count=10)
            assert sum(len(entries) for _, entries in got) == 1
            assert (await redis.xpending(feedback, "prototype_improver"))["pending"] == 1
            # A new worker with an empty data dir: prototypes come back from the changelog, and the
            # stranded feedback is taken over once it has been idle long enough.
            second_env = {**loop_env, "DATA_DIR": str(tmp_path / "second"), "WEB_PORT": str(free_port())}
            second = start_worker(second_env, tmp_path / "second.log")
            web = f"http://127.0.0.1:{second_env['WEB_PORT']}"
            try:
                proto = await teach_and_check(http, redis, settings, web, first)

                async def acknowledged() -> bool:
                    return (await redis.xpending(feedback, "prototype_improver"))["pending"] == 0

                await eventually(acknowledged, timeout=30)
            finally:
                assert second.terminate() == 0, second.output()[-3000:]
    finally:
        api.terminate()
    assert proto["member_count"] == before["member_count"] and proto["id"] == before["id"]
    assert await redis.xlen(feedback) == 1, "the feedback itself is kept"
