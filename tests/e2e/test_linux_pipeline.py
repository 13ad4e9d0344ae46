"""The streaming core end to end on real Kafka, Redis and Chroma: the 2,000 real Linux lines in
Redis `logs` become issue candidates and cluster candidates in the contract's shape, and every
line is accounted for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from streamapp.processes import start_worker
from streamapp.records import ClosedIssue, ClusterCandidate, IssueCandidate
from streamapp.settings import Settings
from tests.support.streams import accounted_lines, eventually, records, xadd_lines
from tests.unit.test_records import PINNED

pytestmark = pytest.mark.e2e


@pytest.fixture
def linux_lines(loghub_dir: Path) -> list[str]:
    return (loghub_dir / "Linux" / "Linux_2k.log").read_text().splitlines()


async def test_linux_2k_to_issues_and_clusters(
    settings: Settings, env: dict[str, str], redis: aioredis.Redis, tmp_path: Path, linux_lines: list[str]
) -> None:
    env = {**env, "ISSUE_INACTIVITY_SEC": "3", "SOURCE_FORMATS": '{"Linux.log": "linux"}'}
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        ids = await xadd_lines(redis, settings.redis_key("logs"), linux_lines, "Linux.log")

        async def all_accounted() -> bool:
            return await accounted_lines(redis, settings) >= len(ids)

        await eventually(all_accounted, timeout=240)

        async def some_cluster():
            return await records(redis, settings.redis_key("clusters_candidates"), ClusterCandidate)

        clusters = await eventually(some_cluster, timeout=60)
    finally:
        assert worker.terminate() == 0, worker.output()[-3000:]

    known = set(ids)
    closed = [c for _, c in await records(redis, settings.redis_key("issues_closed"), ClosedIssue)]
    assert sum(c.line_count for c in closed) == len(ids), "every line is in exactly one issue"
    assert len({c.id for c in closed}) == len(closed)

    candidates = await records(redis, settings.redis_key("issues_candidates"), IssueCandidate)
    assert candidates and len(candidates) == sum(c.emitted for c in closed)
    info_only = sum(c.line_count for c in closed if not c.emitted)
    print(f"{len(closed)} issues, {len(candidates)} candidates, {info_only} info-only lines, {len(clusters)} clusters")
    for fields, cand in candidates:
        assert set(fields) == PINNED[IssueCandidate]
        assert re.fullmatch(r"linux\|[^|]+\|[^|]+", cand.issue_key)
        assert cand.logs and {item["id"] for item in cand.logs} <= known, "logs carry real line ids"
        assert all({"templated", "raw", "component", "pid", "time"} <= set(item) for item in cand.logs)
        assert cand.templated_summary and cand.severity in ("warning", "error", "critical")
    for fields, cluster in clusters:
        assert set(fields) == PINNED[ClusterCandidate]
        assert cluster.member_count >= settings.cluster_min_size
        assert cluster.env_ids and set(cluster.env_ids) <= known
        assert all({"raw", "templated", "os", "source", "env_id"} <= set(s) for s in cluster.sample_logs)
