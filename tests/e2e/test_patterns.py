"""Template patterns on real services: after a (short) warm-up, a template never seen before and a
template whose rate jumps far above its baseline become signals on their issues, and the worker's
`GET /patterns/` lists them (admin only, 400 with a reason on bad parameters)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from streamapp.patterns import NOVEL, RATE
from streamapp.processes import start_worker
from streamapp.records import IssueCandidate
from streamapp.settings import Settings
from tests.support.streams import eventually, records, xadd_lines

pytestmark = pytest.mark.e2e

TOKEN = "patterns-" + uuid.uuid4().hex
PATTERNS = {
    "PATTERN_BUCKET_SEC": "1", "PATTERN_WARMUP_SEC": "3", "PATTERN_WARMUP_LINES": "30", "PATTERN_RATE_MIN": "20",
    "PATTERN_RATE_FACTOR": "5",
}


def routine(n: int, start: int) -> list[str]:
    return [f"Jun 14 15:16:{(start + i) % 60:02d} web-1 cachesvc[100]: cache refresh completed in {start + i} ms"
            for i in range(n)]


async def test_novel_and_rising_templates_are_signalled_and_listed(
    settings: Settings, env: dict[str, str], redis: aioredis.Redis, tmp_path: Path
) -> None:
    env = {**env, **PATTERNS, "ADMIN_TOKEN": TOKEN, "ISSUE_INACTIVITY_SEC": "4", "SOURCE_FORMATS": '{"*": "linux"}',
           "LLM_PROVIDER": "none"}
    worker = start_worker(env, tmp_path / "worker.log")
    logs = settings.redis_key("logs")
    url = f"http://127.0.0.1:{env['WEB_PORT']}/patterns/"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        for second in range(8):  # the warm-up, and a baseline of 6 lines a second
            await xadd_lines(redis, logs, routine(6, second * 6), "app.log")
            await asyncio.sleep(1)
        novel = [f"Jun 14 15:17:0{i} web-2 quotad[7]: disk quota exceeded for volume vol{i}" for i in range(5)]
        await xadd_lines(redis, logs, routine(120, 100) + novel, "app.log")

        async def signalled() -> dict[str, dict]:
            found = {}
            for _, cand in await records(redis, settings.redis_key("issues_candidates"), IssueCandidate):
                for sig in cand.pattern_signals:
                    found[sig["rule"]] = {**sig, "issue_key": cand.issue_key, "host": cand.host}
            return found if len(found) == 2 else {}

        signals = await eventually(signalled, timeout=90)
        async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
            listing = (await http.get(url, headers=auth)).json()
            linux = (await http.get(url, params={"os": "linux"}, headers=auth)).json()
            on_web2 = (await http.get(url, params={"os": "linux", "host": "web-2"}, headers=auth)).json()
            anonymous = await http.get(url, params={"os": "linux"})
            bad = [await http.get(url, params=p, headers=auth) for p in ({"status": "weird"}, {"os": "linux", "x": "1"},
                                                                         {"os": "linux", "limit": "0"})]
    finally:
        assert worker.terminate() == 0, worker.output()[-3000:]

    novel_sig, rate_sig = signals[NOVEL], signals[RATE]
    assert novel_sig["host"] == "web-2" and "disk quota exceeded" in novel_sig["template"], novel_sig
    assert 1 <= novel_sig["count"] <= 5 and novel_sig["os_templates"] >= 2, novel_sig  # lines of its first batch
    assert rate_sig["host"] == "web-1" and "cache refresh completed" in rate_sig["template"], rate_sig
    assert rate_sig["count"] >= 30 and 0 < rate_sig["baseline"] <= rate_sig["count"] / 5, rate_sig

    assert listing["oses"] == ["linux"]
    # The miner may keep the five quota lines apart until it has seen more of them: all are new.
    quota = [i for i in linux["items"] if "disk quota exceeded" in i["template"]]
    assert linux["warm"] and linux["templates"] == len(linux["items"]) == len(quota) + 1, linux
    assert [i["status"] for i in linux["items"]][: len(quota)] == ["new"] * len(quota), linux  # new first
    assert sum(i["total"] for i in quota) == 5 and all(i["hosts"] == 1 for i in quota), linux
    assert {i["template_id"] for i in on_web2["items"]} == {i["template_id"] for i in quota}
    assert anonymous.status_code == 401
    assert [b.status_code for b in bad] == [400, 400, 400] and all(b.json()["error"] for b in bad)
