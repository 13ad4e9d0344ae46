"""Records a stage cannot process, written straight to Kafka (anyone who can write there can do
this), end on the dead-letter stream with the reason and the stage, and the stages go on: a line
sent afterwards still becomes an issue."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import redis.asyncio as aioredis

from streamapp.processes import start_worker
from streamapp.records import ClosedIssue, DeadLetter
from streamapp.settings import Settings
from tests.support.kafka import produce
from tests.support.streams import accounted_lines, eventually, xadd_lines

pytestmark = pytest.mark.e2e


async def test_failing_records_are_parked_with_reason_and_stage(
    settings: Settings, env: dict[str, str], redis: aioredis.Redis, tmp_path: Path
) -> None:
    env = {**env, "ISSUE_INACTIVITY_SEC": "2"}
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        # a group of lines that carry nothing but their id
        bad_group = orjson.dumps(
            {"kind": "lines", "key": "lines:0", "fields": ["id"], "groups": {"linux|h|c|1": [["1-0"]]}}
        )
        bad_issue = ClosedIssue(id="poison-issue", os="linux", issue_key="linux|c|1", key="linux|h|c|1", host="h",
                                component="c", pid="1", line_count=0, emitted=True, severity="error",
                                close_reason="inactivity", first_ts=1.0, last_ts=1.0, issue={"os": "linux"})
        poison = {
            "issue_events": bad_group,  # a group of lines without their fields
            "closed_issues": bad_issue.dumps(),  # an emitted issue without its content
            "alerts": b"{not json",  # undecodable
        }
        for topic, value in poison.items():
            await produce(settings, settings.topic_name(topic), [(b"poison", value)])
        ids = await xadd_lines(redis, settings.redis_key("logs"), ["Nov 28 10:00:00 web-01 app[1]: started"], "s")

        # Where each poison fails (the outbound bridge, which mirrors `alerts`, parks its own copy).
        expected = {("closed_issues", "clustering"), ("alerts", "decode"), ("alerts", "bridge_out")}

        async def parked() -> list[DeadLetter] | None:
            entries = await redis.xrange(settings.redis_key(settings.stream_deadletter))
            letters = [DeadLetter.from_redis(f) for _, f in entries]
            found = {(dl.stream.removeprefix(settings.topic_prefix), dl.stage) for dl in letters}
            lines = {stage for topic, stage in found if topic == "issue_events"}
            return letters if expected <= found and lines & {"issues_aggregator", "decode"} else None

        letters = await eventually(parked, timeout=90)
        assert all(dl.reason and dl.payload for dl in letters)

        async def line_in_an_issue() -> bool:
            return await accounted_lines(redis, settings) >= len(ids)

        await eventually(line_in_an_issue, timeout=60)
        assert worker.popen.poll() is None
    finally:
        assert worker.terminate() == 0, worker.output()[-3000:]
