"""A malformed-input corpus through Redis `logs` (binary, invalid UTF-8, 1 MB lines, JSON bombs,
header-less lines, NUL bytes, control characters): every entry ends in a parsed event or a dead
letter with a reason, and the worker keeps running. Then a dead letter is replayed once fixed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from connectors.bridge_in import InboundBridge
from connectors.deadletters import DeadLetters
from streamapp.processes import BIN, Proc, start_worker
from streamapp.records import DeadLetter, IssueEvents
from streamapp.settings import Settings
from tests.support.kafka import read_topic
from tests.support.streams import eventually

pytestmark = pytest.mark.e2e
TOKEN = "malformed-token-of-the-tests-0123456789"


def corpus() -> list[tuple[str, bytes]]:
    rnd = os.urandom
    nested = "[" * 100_000 + "]" * 100_000
    wide = json.dumps({f"k{i}": i for i in range(50_000)})
    return [
        ("syslog", b"Nov 28 10:00:00 web-01 sshd[1]: Accepted publickey for deploy from 10.0.0.1 port 22 ssh2"),
        ("binary", rnd(2048)),
        ("invalid utf-8", b"Nov 28 10:00:01 web-01 app: caf\xc3\x28 \xff\xfe broken"),
        ("1 MB line", b"Nov 28 10:00:02 web-01 app: " + b"A" * (1 << 20)),
        ("200 KB line", b"Nov 28 10:00:03 web-01 app: " + b"word " * 40_000),
        ("json bomb (nesting)", nested.encode()),
        ("json bomb (wide)", wide.encode()),
        ("metric-like json bomb", b'{"metrics": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"),
        ("no header", b"just some words without any header at all"),
        ("NUL bytes", b"Nov 28 10:00:04 web-01 app: value\x00with\x00nuls"),
        ("control characters", b"Nov 28 10:00:05 web-01 app: \x1b[31mred\x1b[0m \x07 bell \r carriage"),
        ("empty", b""),
        ("only spaces", b"      "),
        ("syslog after", b"Nov 28 10:00:06 web-01 kernel: EXT4-fs error (device sda1): bad block"),
    ]


async def test_malformed_corpus_ends_in_events_or_dead_letters(
    settings: Settings, env: dict[str, str], redis: aioredis.Redis, tmp_path: Path
) -> None:
    env = {**env, "ADMIN_TOKEN": TOKEN, "ISSUE_INACTIVITY_SEC": "2"}
    worker = start_worker(env, tmp_path / "worker.log")
    api = Proc([str(BIN / "streamapp"), "api"], env, tmp_path / "api.log", "Uvicorn running")
    try:
        api.wait_ready()
        ids = {}
        for name, line in corpus():
            ids[(await redis.xadd(settings.redis_key("logs"), {"source": "mixed", "line": line})).decode()] = name
        dead_key = settings.redis_key("deadletter")

        async def settled() -> set[str] | None:
            values = await read_topic(settings, settings.topic_name("issue_events"), lambda v: False, timeout=3)
            parsed = {i for v in values for i in IssueEvents.loads(v).line_ids()}
            letters = {DeadLetter.from_redis(f).original_id for _, f in await redis.xrange(dead_key)}
            return parsed | letters if set(ids) <= parsed | letters else None

        await eventually(settled, timeout=120, interval=1)
        decoded = [DeadLetter.from_redis(f) for _, f in await redis.xrange(dead_key)]
        letters = {letter.original_id: letter for letter in decoded}
        assert worker.popen.poll() is None, "the worker keeps running"
        by_name = {name: eid for eid, name in ids.items()}
        assert "too large" in letters[by_name["1 MB line"]].reason
        assert "invalid UTF-8" in letters[by_name["binary"]].reason or by_name["binary"] not in letters
        assert "invalid UTF-8" in letters[by_name["invalid utf-8"]].reason
        assert all(letter.reason for letter in letters.values())
        async with httpx.AsyncClient(timeout=10) as http:
            listed = (await http.get(f"http://127.0.0.1:{env['API_PORT']}/deadletters",
                                     headers={"Authorization": f"Bearer {TOKEN}"})).json()
        assert {i["original_id"] for i in listed["items"]} == set(letters)
        # Still processing after the corpus: a fresh line goes through.
        later = (await redis.xadd(settings.redis_key("logs"), {"source": "mixed", "line": "Nov 28 10:01:00 h app: ok"}))

        async def later_parsed() -> bool:
            values = await read_topic(settings, settings.topic_name("issue_events"), lambda v: False, timeout=2)
            return later.decode() in {i for v in values for i in IssueEvents.loads(v).line_ids()}

        await eventually(later_parsed, timeout=60, interval=1)
    finally:
        api.terminate()
        assert worker.terminate() == 0, worker.output()[-3000:]


async def test_a_fixed_dead_letter_is_replayed_once(settings: Settings, redis: aioredis.Redis) -> None:
    big = b"Nov 28 10:00:00 web-01 app: " + b"x" * 5000
    original = (await redis.xadd(settings.redis_key("logs"), {"source": "s", "line": big})).decode()
    strict = InboundBridge(settings.model_copy(update={"bridge_max_entry_bytes": 1024}))
    await strict.start()
    try:
        await eventually(lambda: redis.xlen(settings.redis_key("deadletter")), timeout=30)
    finally:
        await strict.stop()
    letters = DeadLetters(redis, settings)
    (letter_id,) = await letters.all_ids()
    assert [o.result for o in await letters.replay([letter_id])] == ["replayed"]
    assert [o.result for o in await letters.replay([letter_id])] == ["already replayed"]
    entries = await redis.xrange(settings.redis_key("logs"))
    assert len(entries) == 2 and entries[1][1][b"line"] == big and entries[0][0].decode() == original
    lenient = InboundBridge(settings)  # the cause is fixed: the default limit is 256 KiB
    await lenient.start()
    try:
        values = await read_topic(settings, settings.topic_name("logs"), lambda v: len(v) >= 1, timeout=30)
    finally:
        await lenient.stop()
    assert len(values) == 1 and b"x" * 100 in values[0]
