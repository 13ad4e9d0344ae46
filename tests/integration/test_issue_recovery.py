"""A worker killed with issues open: a new worker recovers the open-issues table from its
changelog and closes those issues with all their lines, each candidate once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from streamapp.processes import free_port, start_worker
from streamapp.records import IssueCandidate
from streamapp.settings import Settings
from tests.support.streams import accounted_lines, eventually, records, xadd_lines

pytestmark = pytest.mark.integration

TOKEN = "recovery-token-of-the-tests-0123456789"
LINE = "Jun 14 15:16:{s:02d} db-0{h} kernel: EDAC MC0: 1 CE memory read error on CPU_SrcID#0_Ha#0 (line {n})"


async def test_sigkill_with_open_issues_recovers_from_changelog(
    settings: Settings, env: dict[str, str], redis: aioredis.Redis, tmp_path: Path
) -> None:
    env = {**env, "ADMIN_TOKEN": TOKEN, "ISSUE_INACTIVITY_SEC": "6"}
    lines = [LINE.format(s=i % 60, h=i % 5, n=i) for i in range(50)]  # five hosts, ten lines each
    first = start_worker(env, tmp_path / "first.log")
    ids = await xadd_lines(redis, settings.redis_key("logs"), lines, "dbs.log")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{env['WEB_PORT']}", timeout=10) as http:

        async def all_open():
            items = (await http.get("/issues/", headers=auth)).json()["items"]
            return sum(i["line_count"] for i in items if i["state"] == "open") == 50 and items

        opened = await eventually(all_open, timeout=60, interval=0.2)
    first.kill()  # issues are open, nothing was closed yet
    assert len(opened) == 5 and not await redis.exists(settings.redis_key("issues_candidates"))

    # A new worker, with an empty data dir: the table can only come back from the changelog.
    second_env = {**env, "DATA_DIR": str(tmp_path / "second"), "WEB_PORT": str(free_port())}
    second = start_worker(second_env, tmp_path / "second.log")
    try:

        async def all_closed():
            return await accounted_lines(redis, settings) >= 50

        await eventually(all_closed, timeout=120)
        await asyncio.sleep(3)  # a duplicate, if the replay made one, would arrive now
    finally:
        assert second.terminate() == 0, second.output()[-3000:]

    candidates = [c for _, c in await records(redis, settings.redis_key("issues_candidates"), IssueCandidate)]
    assert len(candidates) == 5 == len({c.id for c in candidates}), "each issue emitted once"
    assert sorted(c.line_count for c in candidates) == [10] * 5, "no line lost, none counted twice"
    cited = {item["id"] for c in candidates for item in c.logs}
    assert cited == set(ids), "the issues hold all their lines"
    assert await accounted_lines(redis, settings) == 50
