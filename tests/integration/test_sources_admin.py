"""Data sources on the real PostgreSQL through the admin API, and the producer manager on the
real PostgreSQL and Redis: creating, disabling and deleting sources starts and stops producers
within the reconcile interval, a crashing producer is restarted with backoff, and the status
endpoint reflects it. Secrets are never returned; a Telegraf token is shown once, stored hashed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import ClassVar

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from connectors.sources.base import Batch, Producer
from connectors.sources.manager import ProducerManager, Running
from connectors.sources.registry import producer_class
from streamapp.auth import token_hash
from streamapp.settings import Settings
from tests.support.api import api_client
from tests.support.streams import eventually

pytestmark = pytest.mark.integration
TOKEN = "sources-admin-token-of-the-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Crashing(Producer):
    """A producer with a bug: its poll raises what no handler expects, so the service crashes."""

    type: ClassVar[str] = "crashing"
    interval_sec = 0.1

    async def poll(self, cursor: str | None) -> Batch:
        raise RuntimeError("a bug in a producer")




@pytest.fixture
def admin(settings: Settings) -> Settings:
    return settings.model_copy(update={"admin_token": type(settings.admin_token)(TOKEN), "sources_reconcile_sec": 0.5,
                                       "sources_heartbeat_sec": 0.5})


@pytest.fixture
async def api(admin: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(admin) as client:
        yield client


@pytest.fixture
async def manager(admin: Settings, request: pytest.FixtureRequest) -> AsyncIterator[ProducerManager]:
    """The manager; a test marked `buggy` gets a registry whose filetail producer crashes."""
    buggy = request.node.get_closest_marker("buggy") is not None
    m = ProducerManager(admin, registry=lambda t, c: Crashing if buggy else producer_class(t, c))
    await m.start()
    yield m
    await m.stop()


async def status(api: httpx.AsyncClient, sid: str) -> dict:
    r = await api.get(f"/sources/{sid}/status", headers=AUTH)
    assert r.status_code == 200, r.text
    return r.json()


async def test_lifecycle_through_the_api(
    api: httpx.AsyncClient, manager: ProducerManager, admin: Settings, redis: aioredis.Redis, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    log.write_text("first line\nsecond line\n")
    r = await api.post("/sources", headers=AUTH, json={
        "name": "app", "type": "filetail", "config": {"paths": [str(log)], "start_at": "beginning"},
    })
    assert r.status_code == 201, r.text
    sid = r.json()["source"]["id"]

    async def running() -> dict | None:
        st = await status(api, sid)
        return st if st.get("state") == "running" and st.get("lines") == 2 else None

    st = await eventually(running, timeout=10, interval=0.2)
    assert st["running"] is True and st["bytes"] > 0
    entries = await redis.xrange(admin.redis_key("logs"))
    assert [(f[b"line"], f[b"source_id"]) for _, f in entries] == [(b"first line", sid.encode()),
                                                                    (b"second line", sid.encode())]
    assert (await api.post(f"/sources/{sid}/disable", headers=AUTH)).json()["enabled"] is False
    await eventually(lambda: _is(sid not in manager.running), timeout=5, interval=0.1)
    with log.open("a") as f:
        f.write("written while disabled\n")
    assert (await api.post(f"/sources/{sid}/enable", headers=AUTH)).json()["enabled"] is True
    await eventually(lambda: _is(sid in manager.running), timeout=5, interval=0.1)

    async def caught_up() -> bool:
        return await redis.xlen(admin.redis_key("logs")) == 3

    await eventually(caught_up, timeout=10, interval=0.2)  # the cursor survived: nothing twice
    assert (await api.delete(f"/sources/{sid}", headers=AUTH)).status_code == 204
    await eventually(lambda: _is(sid not in manager.running), timeout=5, interval=0.1)
    assert (await api.get(f"/sources/{sid}", headers=AUTH)).status_code == 404


async def _is(value: bool) -> bool:
    return value


@pytest.mark.buggy
async def test_a_crashing_producer_is_restarted_with_backoff(
    api: httpx.AsyncClient, manager: ProducerManager, tmp_path: Path
) -> None:
    r = await api.post("/sources", headers=AUTH, json={
        "name": "buggy", "type": "filetail", "config": {"paths": [str(tmp_path / "x.log")]},
    })
    assert r.status_code == 201, r.text
    sid = r.json()["source"]["id"]

    runs: dict[int, Running] = {}  # each run the manager started, by its restart count

    async def restarted_twice() -> dict | None:
        if (run := manager.running.get(sid)) is not None:
            runs.setdefault(run.restarts, run)
        st = await status(api, sid)
        return st if st.get("restarts", 0) >= 2 else None

    st = await eventually(restarted_twice, timeout=20, interval=0.1)
    assert "a bug in a producer" in st["last_error"]
    for n, run in runs.items():
        assert run.next_restart - run.started == pytest.approx(2.0**n), "backoff doubles with each restart"
    pairs = [(runs[n], runs[n + 1]) for n in runs if n + 1 in runs]
    assert pairs, f"saw no two consecutive runs (saw restarts {sorted(runs)})"
    for crashed, restarted in pairs:
        assert restarted.started >= crashed.next_restart, "a crash is restarted only once its backoff is over"


async def test_validation_secrets_and_telegraf_tokens(api: httpx.AsyncClient, admin: Settings) -> None:
    assert (await api.get("/sources")).status_code == 401
    bad = await api.post("/sources", headers=AUTH, json={"name": "x", "type": "filetail", "config": {"paths": []}})
    assert bad.status_code == 422 and bad.json()["field"] == "config.paths"
    assert (await api.post("/sources", headers=AUTH, json={"name": "x", "type": "nope"})).json()["field"] == "type"
    assert (await api.post("/sources", headers=AUTH, content=b"{not json")).status_code == 400
    r = await api.post("/sources", headers=AUTH, json={"name": "agents", "type": "telegraf",
                                                        "config": {"allowed_hosts": ["web-01"]}})
    assert r.status_code == 201
    token, sid = r.json()["token"], r.json()["source"]["id"]
    assert (await api.post("/sources", headers=AUTH, json={"name": "agents", "type": "telegraf"})).status_code == 409
    listed = (await api.get("/sources", headers=AUTH)).text + (await api.get(f"/sources/{sid}", headers=AUTH)).text
    assert token not in listed
    conn = await asyncpg.connect(admin.database_url.get_secret_value())
    try:
        stored = await conn.fetchval(f'select token_hash from "{admin.database_schema}".data_source_token')
    finally:
        await conn.close()
    assert stored == token_hash(token) and token not in stored


async def test_a_file_tail_outside_the_allowed_folders_is_refused(api: httpx.AsyncClient, tmp_path: Path) -> None:
    for path in ("/proc/self/environ", "/etc/*.conf"):
        body = {"name": "x", "type": "filetail", "config": {"paths": [path]}}
        r = await api.post("/sources", headers=AUTH, json=body)
        assert r.status_code == 422 and r.json()["field"] == "config.paths", r.text
        assert "FILETAIL_ALLOWED_DIRS" in r.json()["error"]
    ok = await api.post("/sources", headers=AUTH, json={"name": "x", "type": "filetail",
                                                        "config": {"paths": [str(tmp_path / "*.log")]}})
    assert ok.status_code == 201, ok.text


async def test_sources_cannot_reach_the_denied_networks(admin: Settings) -> None:
    """SOURCE_DENY_NETWORKS: no poller aimed at the cloud metadata address or the host's own services."""
    # Validated (model_copy would skip it), so the list is parsed as it is from the environment.
    networks = "127.0.0.0/8,169.254.0.0/16,::1/128"
    denied = Settings.model_validate({**admin.model_dump(), "source_deny_networks": networks})
    async with api_client(denied) as api:
        for body, field in (
            ({"type": "datadog", "config": {"base_url": "http://169.254.169.254/latest"}}, "config.base_url"),
            ({"type": "snmp", "config": {"host": "localhost"}}, "config.host"),  # a name, by its address
            ({"type": "dcim_http", "config": {"url": "https://[::1]:8443", "username": "root"}}, "config.url"),
        ):
            r = await api.post("/sources", headers=AUTH, json={"name": "x", **body, "secrets": {}})
            assert r.status_code == 422 and r.json()["field"] == field, r.text
            assert "SOURCE_DENY_NETWORKS" in r.json()["error"]
    async with api_client(admin) as api:  # the default denies nothing
        snmp = {"name": "x", "type": "snmp", "config": {"host": "localhost"}}
        assert (r := await api.post("/sources", headers=AUTH, json=snmp)).status_code == 201, r.text
