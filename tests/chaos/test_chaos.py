"""Chaos: 50,000 generated lines with known ids through the whole pipeline while a fault strikes —
the worker SIGKILLed and restarted, the Kafka broker stopped and restarted, Redis stopped and
restarted (append-only file on). Afterwards every line id is accounted for (in a parsed event or
the dead-letter stream), no alert id is duplicated, and no automation fired twice.

Each scenario runs on private services (its own Kafka and Redis, started by scripts/services),
so stopping them leaves the rest of the suite alone.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from streamapp.processes import Proc, free_port, start_worker
from streamapp.records import Alert, DeadLetter, IssueEvents
from streamapp.settings import Settings, settings_for_env
from tests.support.kafka import read_topic
from tests.support.services import PrivateServices

pytestmark = pytest.mark.chaos

N = 50_000
CHUNK = 1000


@pytest.fixture(scope="module")
def lines(shared_tools_dir: Path, loghub_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    out = tmp_path_factory.mktemp("chaos") / "lines.log"
    subprocess.run(
        [sys.executable, str(shared_tools_dir / "loggen.py"), "--data", str(loghub_dir), "--system", "Linux",
         "-n", str(N), "-o", str(out), "--seed", "11"], check=True, capture_output=True,
    )
    return out.read_text().splitlines()


async def feed(client: aioredis.Redis, stream: str, lines: list[str], ids: list[str], fault_at: int,
               fault) -> None:  # type: ignore[no-untyped-def]
    """XADD in chunks, retrying a chunk while Redis is away (a source would do the same); the
    fault strikes once `fault_at` lines are in."""
    done = False
    for start in range(0, len(lines), CHUNK):
        if not done and start >= fault_at:
            await fault()
            done = True
        chunk = lines[start : start + CHUNK]
        while True:
            try:
                async with client.pipeline(transaction=False) as pipe:
                    for i, line in enumerate(chunk):
                        pipe.xadd(stream, {"source": f"gen-{(start + i) % 8}", "line": line})
                    ids.extend(x.decode() for x in await pipe.execute())
                break
            except (RedisError, OSError):
                await asyncio.sleep(0.5)


async def accounted(s: Settings, client: aioredis.Redis, ids: list[str], timeout: float = 600) -> tuple[set, set]:
    """Wait until every line id is in a parsed event (Kafka `issue_events`) or a dead letter."""
    want = set(ids)
    deadline = time.monotonic() + timeout
    parsed: set[str] = set()
    dead: set[str] = set()
    while time.monotonic() < deadline:
        values = await read_topic(s, s.topic_name("issue_events"), lambda v: False, timeout=5)
        parsed = {i for v in values for i in IssueEvents.loads(v).line_ids()}
        try:
            dead = {DeadLetter.from_redis(f).original_id for _, f in await client.xrange(s.redis_key("deadletter"))}
        except (RedisError, OSError):
            dead = set()
        if want <= parsed | dead:
            break
        await asyncio.sleep(2)
    return parsed, dead


async def run_scenario(tmp: Path, lines: list[str], fault_name: str) -> None:
    with PrivateServices(tmp / "services") as svc:
        env = {**svc.env, "STREAMAPP_ID": "chaos", "DATA_DIR": str(tmp / "worker"), "CHROMA_PATH": str(tmp / "chroma"),
               "WEB_PORT": str(free_port()), "ISSUE_INACTIVITY_SEC": "3", "LLM_PROVIDER": "none",
               "ENABLE_SOURCES": "false", "BRIDGE_CLAIM_IDLE_MS": "2000", "SOURCE_FORMATS": '{"*": "linux"}'}
        s = settings_for_env(env)
        client = aioredis.from_url(s.redis_url)
        workers: list[Proc] = [start_worker(env, tmp / "worker-0.log")]

        async def fault() -> None:
            if fault_name == "worker":
                workers[-1].kill()
                workers.append(start_worker(env, tmp / f"worker-{len(workers)}.log"))
            elif fault_name == "kafka":
                svc.stop("kafka")
                await asyncio.sleep(5)
                svc.start("kafka")
            elif fault_name == "redis":
                svc.stop("redis")
                await asyncio.sleep(3)
                svc.start("redis")

        ids: list[str] = []
        try:
            await feed(client, s.redis_key("logs"), lines, ids, N * 2 // 5, fault)
            parsed, dead = await accounted(s, client, ids)
            alerts = [Alert.from_redis(f).id for _, f in await client.xrange(s.redis_key("alerts"))]
            automations = await client.xrange(s.redis_key("automation_events")) if await client.exists(
                s.redis_key("automation_events")) else []
        finally:
            for w in workers:
                w.terminate()
            await client.aclose()
    missing = set(ids) - parsed - dead
    acted = Counter((f.get(b"alert_id"), f.get(b"rule_id")) for _, f in automations
                    if f.get(b"decision") in (b"executed", b"dry_run"))
    print(f"[{fault_name}] lines {len(ids)}, parsed {len(parsed & set(ids))}, dead-lettered {len(dead & set(ids))}, "
          f"missing {len(missing)}; alerts {len(alerts)} ({len(set(alerts))} distinct); "
          f"automation decisions {sum(acted.values())}")
    assert len(ids) == N and len(set(ids)) == N
    assert not missing, f"{len(missing)} lines lost, e.g. {sorted(missing)[:5]}"
    assert len(alerts) == len(set(alerts)), "an alert id was written twice"
    assert all(n == 1 for n in acted.values()), "an automation fired twice"


@pytest.mark.parametrize("fault_name", ["worker", "kafka", "redis"])
async def test_nothing_lost_under_faults(fault_name: str, lines: list[str], tmp_path: Path) -> None:
    await run_scenario(tmp_path, lines, fault_name)
