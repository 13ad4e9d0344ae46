"""A flood of lines crafted to be slow to parse (an HDFS-like header that never reaches its `:`,
hundreds of words long; a backtracking matcher spent minutes on each) ahead of normal lines: the
normal lines still become issues promptly, and the flood itself is accounted for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from streamapp.processes import start_worker
from streamapp.records import ClosedIssue
from streamapp.settings import Settings
from tests.support.streams import accounted_lines, eventually, records, xadd_lines

pytestmark = pytest.mark.e2e

HDFS = "<Date> <Time> <Pid> <Level> <Component>: <Content>"


async def test_a_slow_line_flood_does_not_stall_normal_lines(
    settings: Settings, env: dict[str, str], redis: aioredis.Redis, tmp_path: Path
) -> None:
    env = {**env, "ISSUE_INACTIVITY_SEC": "2", "SOURCE_FORMATS": json.dumps({"hdfs*": HDFS, "*": "linux"})}
    flood = [f"081109 2036{i % 60:02d} " + " ".join(["word"] * 400) for i in range(150)]
    normal = [f"Nov 28 10:{i // 60:02d}:{i % 60:02d} web-01 sshd[4{i % 7}]: Accepted publickey for deploy"
              for i in range(100)]
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        logs = settings.redis_key("logs")
        flood_ids = await xadd_lines(redis, logs, flood, "hdfs.log")
        normal_ids = await xadd_lines(redis, logs, normal, "syslog")

        async def normal_lines_in_issues() -> int:
            closed = await records(redis, settings.redis_key(settings.stream_issues_closed), ClosedIssue)
            return sum({c.id: c.line_count for _, c in closed if c.host == "web-01"}.values()) >= len(normal_ids)

        await eventually(normal_lines_in_issues, timeout=120)

        async def all_accounted() -> bool:
            return await accounted_lines(redis, settings) >= len(flood_ids) + len(normal_ids)

        await eventually(all_accounted, timeout=60)
        assert worker.popen.poll() is None, "the worker keeps running"
    finally:
        assert worker.terminate() == 0, worker.output()[-3000:]
