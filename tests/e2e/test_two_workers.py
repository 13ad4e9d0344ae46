"""Two workers on the same topics split the partitions, and together produce exactly the issue
candidates one worker produces alone on the same input (same line ids, so the same stable ids)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from streamapp.processes import free_port, start_worker
from streamapp.records import IssueCandidate
from streamapp.settings import Settings, settings_for_env
from tests.support.streams import accounted_lines, eventually, records

pytestmark = pytest.mark.e2e
TOKEN = "two-workers-of-the-tests-0123456789"


async def run(
    env: dict[str, str], settings: Settings, redis: aioredis.Redis, lines: list[str], tmp: Path, workers: int
) -> dict[str, tuple[str, int, frozenset[str]]]:
    """Feed `lines` with explicit ids 1-0, 2-0, ... and return candidates by id."""
    # Issue boundaries follow processing time; a window well above any pause keeps them identical.
    env = {**env, "ISSUE_INACTIVITY_SEC": "10", "SOURCE_FORMATS": '{"*": "linux"}', "ADMIN_TOKEN": TOKEN}
    procs = []
    for n in range(workers):
        wenv = {**env, "DATA_DIR": str(tmp / f"w{n}"), "CHROMA_PATH": str(tmp / f"chroma{n}"),
                "WEB_PORT": str(free_port())}
        procs.append((start_worker(wenv, tmp / f"w{n}.log"), wenv["WEB_PORT"]))
    try:
        if workers > 1:  # both joined: each owns some partitions of the issue table
            async with httpx.AsyncClient(timeout=10) as http:

                async def split() -> bool:
                    auth = {"Authorization": f"Bearer {TOKEN}"}
                    for _, port in procs:
                        r = await http.get(f"http://127.0.0.1:{port}/issues/", headers=auth)
                        if r.status_code != 200:
                            return False
                    return all("Assigned" in p.output() or "assigned" in p.output() for p, _ in procs)

                await eventually(split, timeout=60)
        async with redis.pipeline(transaction=False) as pipe:
            for i, line in enumerate(lines):
                pipe.xadd(settings.redis_key("logs"), {"source": "Linux.log", "line": line}, id=f"{i + 1}-0")
            await pipe.execute()

        async def done() -> bool:
            return await accounted_lines(redis, settings) >= len(lines)

        await eventually(done, timeout=300)
    finally:
        for proc, _ in procs:
            assert proc.terminate() == 0, proc.output()[-3000:]
    owned = [p.output().count("open_issues") for p, _ in procs]
    assert all(owned), "every worker took part"
    return {
        c.id: (c.issue_key, c.line_count, frozenset(i["id"] for i in c.logs))
        for _, c in await records(redis, settings.redis_key("issues_candidates"), IssueCandidate)
    }


async def test_two_workers_equal_one(
    env: dict[str, str], settings: Settings, redis: aioredis.Redis, tmp_path: Path, loghub_dir: Path
) -> None:
    lines = (loghub_dir / "Linux" / "Linux_2k.log").read_text().splitlines()
    single = await run(env, settings, redis, lines, tmp_path / "one", workers=1)
    # A second, independent namespace for the two-worker run.
    env2 = {**env, "STREAMAPP_ID": env["STREAMAPP_ID"] + "2", "TOPIC_PREFIX": env["TOPIC_PREFIX"] + "2.",
            "STREAM_PREFIX": env["STREAM_PREFIX"] + "2."}
    settings2 = settings_for_env(env2)
    try:
        pair = await run(env2, settings2, redis, lines, tmp_path / "two", workers=2)
    finally:
        from tests.support.fixtures import cleanup

        await cleanup(settings2)
    assert single and pair == single
    print(f"{len(single)} candidates, identical from one worker and from two")
