"""Data sources through a real worker (producer manager, bridges, consumer, aggregator) on real
Kafka, Redis and PostgreSQL, driven through the admin API:

- the Redfish toggle: off pauses every Redfish producer (no request reaches the BMC, the status
  says why), on resumes it;
- file tail sources that name no format: the OS is inferred from the file name or the first lines,
  the status says which and why, and the consumer parses the very first lines by it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from streamapp.processes import start_worker
from streamapp.records import ClosedIssue
from streamapp.settings import Settings, settings_for_env
from tests.doubles.redfish import RedfishDouble
from tests.support.api import api_client
from tests.support.streams import accounted_lines, eventually, records
from tests.unit.test_format_inference import MAC, WINDOWS

pytestmark = pytest.mark.e2e
TOKEN = "sources-e2e-token-" + "t" * 20
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FAST = {"ADMIN_TOKEN": TOKEN, "SOURCES_RECONCILE_SEC": "0.5", "SOURCES_HEARTBEAT_SEC": "0.5",
        "TOGGLES_CACHE_SEC": "0.2"}


async def create(api: httpx.AsyncClient, body: dict) -> str:
    r = await api.post("/sources", headers=AUTH, json=body)
    assert r.status_code == 201, r.text
    return r.json()["source"]["id"]


async def status(api: httpx.AsyncClient, sid: str) -> dict:
    r = await api.get(f"/sources/{sid}/status", headers=AUTH)
    assert r.status_code == 200, r.text
    return r.json()


async def test_the_redfish_toggle_pauses_and_resumes_redfish_producers(
    env: dict[str, str], tmp_path: Path, redfish_mockup_dir: Path
) -> None:
    env = {**env, **FAST, **{f"ENABLE_{x}": "false" for x in (
        "CONSUMER", "ISSUES_AGGREGATOR", "CLUSTERING", "ENRICHER", "CLUSTER_ENRICHER", "PROTOTYPE_IMPROVER")}}
    s: Settings = settings_for_env(env)
    with RedfishDouble(redfish_mockup_dir) as bmc:
        worker = start_worker(env, tmp_path / "worker.log")
        try:
            async with api_client(s) as api:
                sid = await create(api, {"name": "rack1", "type": "dcim_http", "secrets": {"password": bmc.password},
                                         "config": {"url": bmc.url, "username": bmc.username, "interval_sec": 1}})

                async def polled(state: str) -> dict | None:
                    st = await status(api, sid)
                    return st if st.get("state") == state and st.get("lines", 0) > 0 else None

                await eventually(lambda: polled("running"), timeout=30, interval=0.2)
                assert (await api.put("/telemetry/toggles", headers=AUTH, json={"redfish_polling": False})).is_success
                paused = await eventually(lambda: polled("paused"), timeout=10, interval=0.2)
                assert paused["paused"] == "the redfish_polling toggle is off"
                overview = (await api.get("/telemetry/redfish/status", headers=AUTH)).json()
                assert overview["polling"] is False
                assert [(x["id"], x["state"]) for x in overview["sources"]] == [(sid, "paused")]
                calls = len(bmc.calls)
                await asyncio.sleep(3)  # three poll intervals
                assert len(bmc.calls) == calls, "no request reaches the BMC while paused"

                assert (await api.put("/telemetry/toggles", headers=AUTH, json={"redfish_polling": True})).is_success
                resumed = await eventually(lambda: polled("running"), timeout=10, interval=0.2)
                assert resumed["paused"] == "" and len(bmc.calls) > calls
                assert (await api.get("/telemetry/redfish/status", headers=AUTH)).json()["polling"] is True
        finally:
            assert worker.terminate() == 0, worker.output()[-3000:]


async def test_file_sources_without_a_format_are_parsed_by_the_os_their_files_show(
    env: dict[str, str], settings: Settings, redis: aioredis.Redis, tmp_path: Path
) -> None:
    env = {**env, **FAST, "ISSUE_INACTIVITY_SEC": "1", "ENABLE_CLUSTERING": "false",
           "ENABLE_CLUSTER_ENRICHER": "false", "ENABLE_PROTOTYPE_IMPROVER": "false"}
    s = settings_for_env(env)
    files = {"Mac.log": MAC, "Windows_2k.log": WINDOWS, "app.log": MAC}  # app.log: only its lines tell
    for name, lines in files.items():
        (tmp_path / name).write_text("\n".join(lines) + "\n")
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        async with api_client(s) as api:
            sids = {name: await create(api, {"name": name, "type": "filetail", "config": {
                "paths": [str(tmp_path / name)], "start_at": "beginning"}}) for name in files}

            async def all_in_issues() -> bool:
                return await accounted_lines(redis, settings) >= sum(map(len, files.values()))

            await eventually(all_in_issues, timeout=90, interval=0.5)
            chosen = {name: await status(api, sid) for name, sid in sids.items()}
    finally:
        assert worker.terminate() == 0, worker.output()[-3000:]
    assert {n: (c["format"], c["format_from"]) for n, c in chosen.items()} == {
        "Mac.log": ("macos", "the file name Mac.log"),
        "Windows_2k.log": ("windows", "the file name Windows_2k.log"),
        "app.log": ("macos", "its first lines (4 of 4 fit macos, 3 with its marks)"),
    }
    closed = [c for _, c in await records(redis, settings.redis_key("issues_closed"), ClosedIssue)]
    by_os = Counter()
    for c in {c.id: c for c in closed}.values():
        by_os[c.os] += c.line_count
    assert by_os == {"macos": 2 * len(MAC), "windows": len(WINDOWS)}, "parsed by the inferred OS from line one"
    assert {c.host for c in closed if c.os == "macos"} == {"mbp-ops"}
