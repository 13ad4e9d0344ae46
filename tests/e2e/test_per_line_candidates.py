"""`ENABLE_PER_LINE_CANDIDATES` end to end on real Kafka, Redis and Chroma: every qualifying line is
sent on as a per-line candidate (the contract's fields on `issues_candidates`) and the enricher
classifies it into an alert right away, long before its issue closes, with the same id scheme
(a replay of the candidate makes no second alert)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from streamapp.processes import start_worker
from streamapp.records import Alert, LineCandidate
from streamapp.settings import Settings, settings_for_env
from tests.support.kafka import produce, read_topic
from tests.support.streams import eventually, records, xadd_lines
from tests.unit.test_records import LEGACY

pytestmark = pytest.mark.e2e
HOST = "db-07"
LINES = [
    f"Mar  3 10:00:01 {HOST} CRON[2211]: (root) CMD (run-parts /etc/cron.hourly)",
    f"Mar  3 10:00:02 {HOST} kernel: blk_update_request: I/O error, dev sdb, sector 1953520 op 0x0:(READ)",
    f"Mar  3 10:00:03 {HOST} systemd[1]: Started Session 12 of user deploy.",
    f"Mar  3 10:00:04 {HOST} kernel: Out of memory: Killed process 4242 (java) total-vm:8123456kB",
]


async def test_each_error_line_becomes_an_alert_without_waiting_for_its_issue(
    env: dict[str, str], settings: Settings, redis: aioredis.Redis, tmp_path: Path
) -> None:
    env = {**env, "ENABLE_PER_LINE_CANDIDATES": "true", "ISSUE_INACTIVITY_SEC": "600",
           "SOURCE_FORMATS": '{"*": "linux"}'}
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        ids = await xadd_lines(redis, settings.redis_key("logs"), LINES, "syslog")

        async def two_alerts() -> list | None:
            found = await records(redis, settings.redis_key("alerts"), Alert)
            return found if len(found) >= 2 else None

        alerts = [a for _, a in await eventually(two_alerts, timeout=120)]
        entries = await records(redis, settings.redis_key("issues_candidates"), LineCandidate)
        replayed = entries[0][1]
        s = settings_for_env(env)  # a replay of one candidate on Kafka: the same alert id, nothing new
        await produce(s, s.topic_name("line_candidates"), [(replayed.id.encode(), replayed.dumps())])
        again = await read_topic(s, s.topic_name("alerts"), lambda values: len(values) >= 3)
        assert len(again) == 3, "the replayed candidate was classified again"
        await _settle(redis, settings.redis_key("alerts"), 2)
    finally:
        assert worker.terminate() == 0, worker.output()[-3000:]

    per_line = {c.id: (fields, c) for fields, c in entries if c.kind == "line"}
    assert set(per_line) == {f"line:{ids[1]}", f"line:{ids[3]}"}, "only the error lines"
    assert all(LEGACY[LineCandidate] <= set(fields) for fields, _ in per_line.values())
    kinds = [f.get(b"kind") for _, f in await redis.xrange(settings.redis_key("issues_candidates"))]
    assert kinds == [b"line", b"line"], "no issue has closed: these alerts come from the lines alone"
    by_line = {a.log_ids[0]: a for a in alerts}
    assert set(by_line) == {ids[1], ids[3]} and all(len(a.log_ids) == 1 for a in alerts)
    disk, oom = by_line[ids[1]], by_line[ids[3]]
    assert (disk.id, disk.failure_type, disk.host, disk.type) == (f"alert-line:{ids[1]}", "hardware_disk", HOST,
                                                                  "issue")
    assert (oom.id, oom.failure_type) == (f"alert-line:{ids[3]}", "os_oom")
    assert disk.issue_key == "linux|kernel|nopid"


async def _settle(redis: aioredis.Redis, key: str, expected: int) -> None:
    """The stream keeps `expected` entries for a few seconds (the replay adds none)."""
    for _ in range(6):
        assert await redis.xlen(key) == expected
        await asyncio.sleep(0.5)
