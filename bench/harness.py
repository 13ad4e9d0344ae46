"""What the benches share: a fresh namespace on the local services, generated lines, a worker
process, progress polling and RSS readings."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import redis
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from connectors.kafka_admin import client_options, ensure_topics, partition_for
from streamapp.batches import line_records
from streamapp.classify import OfflineClassifier
from streamapp.commands.classify import classify_file
from streamapp.parsing import LineFormat
from streamapp.processes import Proc, free_port, start_worker
from streamapp.records import IssueCandidate, IssueEvents, IssueLines, IssueSweep, LineBatch, RawLine
from streamapp.rules import RuleSet
from streamapp.settings import Settings, settings_for_env

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("STREAMAPP_SHARED_DIR", REPO.parent / "shared"))


def services_up() -> None:
    subprocess.run([str(REPO / "scripts" / "services"), "up"], check=True, stdout=subprocess.DEVNULL)


def namespace(workdir: Path, **extra: str) -> tuple[dict[str, str], Settings]:
    prefix = f"b{uuid.uuid4().hex[:8]}."
    env = {
        "STREAMAPP_ID": f"{prefix}app", "TOPIC_PREFIX": prefix, "STREAM_PREFIX": prefix,
        "DATA_DIR": str(workdir / "worker"), "CHROMA_PATH": str(workdir / "chroma"), "WEB_PORT": str(free_port()),
        **extra,
    }
    return env, settings_for_env(env)


def generate(n: int, out: Path, system: str = "Linux", seed: int = 1) -> list[str]:
    """`n` realistic lines from the shared generator (fresh variable values, known templates)."""
    tool = SHARED / "tools" / "loggen.py"
    if not tool.exists():
        raise SystemExit(f"shared tools not found at {tool} (set STREAMAPP_SHARED_DIR)")
    subprocess.run(
        [sys.executable, str(tool), "--data", str(SHARED / "data" / "loghub-2k"), "--system", system,
         "-n", str(n), "-o", str(out), "--seed", str(seed)], check=True, stdout=subprocess.DEVNULL,
    )
    return out.read_text().splitlines()


def xadd_all(client: redis.Redis, stream: str, lines: list[str], source: str) -> float:
    """Pipelined XADD of every line; returns the seconds it took."""
    start = time.perf_counter()
    for i in range(0, len(lines), 2000):
        pipe = client.pipeline(transaction=False)
        for line in lines[i : i + 2000]:
            pipe.xadd(stream, {"source": source, "line": line})
        pipe.execute()
    return time.perf_counter() - start


def wait(progress: Callable[[], int], target: int, timeout: float, label: str, *procs: Proc) -> float:
    """Poll until progress() >= target; returns the elapsed seconds. Stops the bench if one of
    `procs` (the workers doing the work) has exited."""
    start = time.perf_counter()
    last_print = 0.0
    while (done := progress()) < target:
        now = time.perf_counter() - start
        if now > timeout:
            raise SystemExit(f"{label}: only {done}/{target} after {timeout:.0f}s")
        for proc in procs:
            if proc.popen.poll() is not None:
                raise SystemExit(f"{label}: worker exited ({proc.popen.returncode}):\n{proc.output()[-3000:]}")
        if now - last_print > 5:
            print(f"  {label}: {done}/{target} after {now:.0f}s", file=sys.stderr, flush=True)
            last_print = now
        time.sleep(0.05)
    return time.perf_counter() - start


def rss_mb(proc: Proc) -> float:
    """Resident set size of the worker process and its children (the vector store's), MiB."""
    return sum(_rss_kb(pid) for pid in _tree(proc.popen.pid)) / 1024


def rss_split_mb(proc: Proc) -> tuple[float, float]:
    """Resident set size of the worker process alone and of its children (the vector store's), MiB."""
    own = _rss_kb(proc.popen.pid) / 1024
    return own, rss_mb(proc) - own


def _tree(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return out


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def worker(env: dict[str, str], log: Path, app: str = "streamapp") -> Proc:
    return start_worker(env, log, app=app, cwd=REPO)


def cleanup(client: redis.Redis, settings: Settings) -> None:
    keys = list(client.scan_iter(match=f"{settings.stream_prefix}*", count=1000))
    for i in range(0, len(keys), 500):
        client.delete(*keys[i : i + 500])


TABLES = ("open_issues", "prototypes", "patterns", "automation_cooldowns")


def changelog_records(settings: Settings) -> dict[str, int]:
    """Records written so far to each table's changelog topic (sum of its partitions' end offsets)."""
    return asyncio.run(_changelog_records(settings))


async def _changelog_records(settings: Settings) -> dict[str, int]:
    consumer = AIOKafkaConsumer(**client_options(settings), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        existing = await consumer.topics()
        counts = {}
        for table in TABLES:
            topic = f"{settings.streamapp_id}-{table}-changelog"
            if topic in existing:
                parts = [TopicPartition(topic, p) for p in range(settings.topic_partitions)]
                counts[table] = sum((await consumer.end_offsets(parts)).values())
            else:
                counts[table] = 0
        return counts
    finally:
        await consumer.stop()


def backlog(settings: Settings, topics: tuple[str, ...] = ("issues_candidates", "closed_issues")) -> dict[str, int]:
    """Records of each topic the worker's agents have not committed yet (written minus the app's
    committed offsets): the enricher's and the clustering agent's backlog, held in the worker."""
    return asyncio.run(_backlog(settings, topics))


async def _backlog(settings: Settings, topics: tuple[str, ...]) -> dict[str, int]:
    consumer = AIOKafkaConsumer(**client_options(settings), group_id=settings.streamapp_id, enable_auto_commit=False)
    await consumer.start()
    try:
        out = {}
        for name in topics:
            parts = [TopicPartition(settings.topic_name(name), p) for p in range(settings.topic_partitions)]
            ends = await consumer.end_offsets(parts)
            out[name] = sum(ends.values())
            for tp in parts:
                out[name] -= (await consumer.committed(tp)) or 0
        return out
    finally:
        await consumer.stop()


class ParsedCounter(threading.Thread):
    """Counts lines carried by `issue_events` (kind=lines) as they appear on Kafka."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(daemon=True)
        self.settings, self.count, self.stop = settings, 0, False

    def run(self) -> None:
        asyncio.run(self._consume())

    async def _consume(self) -> None:
        s = self.settings
        consumer = AIOKafkaConsumer(
            s.topic_name("issue_events"), **client_options(s), auto_offset_reset="earliest",
            group_id=None, enable_auto_commit=False,
        )
        await consumer.start()
        try:
            while not self.stop:
                batch = await consumer.getmany(timeout_ms=100)
                for msgs in batch.values():
                    for m in msgs:
                        self.count += len(IssueEvents.loads(m.value).line_ids())
        finally:
            await consumer.stop()


class KafkaLineCounter(threading.Thread):
    """Counts the lines the `logs` batch records on Kafka carry, as they appear."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(daemon=True)
        self.settings, self.count, self.stop = settings, 0, False

    def run(self) -> None:
        asyncio.run(self._consume())

    async def _consume(self) -> None:
        s = self.settings
        await ensure_topics(s, {s.topic_name("logs"): s.topic_partitions})
        consumer = AIOKafkaConsumer(
            s.topic_name("logs"), **client_options(s), auto_offset_reset="earliest", group_id=None,
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            while not self.stop:
                for msgs in (await consumer.getmany(timeout_ms=100)).values():
                    self.count += sum(len(LineBatch.loads(m.value).lines) for m in msgs)
        finally:
            await consumer.stop()


class ClosedLines:
    """Lines in closed issues so far (`issues_closed`, each issue counted once), read incrementally:
    a run closes tens of thousands of issues, and re-reading them all at every poll would load Redis
    and the bench's own process, taking CPU from the worker being measured."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client, self.key = client, settings.redis_key(settings.stream_issues_closed)
        self.after, self.counts = "-", {}

    def __call__(self) -> int:
        while entries := self.client.xrange(self.key, min=self.after, count=10_000):
            self.counts.update((f[b"id"], int(f[b"line_count"])) for _, f in entries)
            self.after = "(" + entries[-1][0].decode()
        return sum(self.counts.values())


def wait_idle(settings: Settings, quiet: float = 3.0, timeout: float = 600) -> None:
    """Until the worker has consumed everything on every topic for `quiet` seconds (consumer-group
    lag zero), so a measurement does not start while earlier work is still queued."""
    asyncio.run(_wait_idle(settings, quiet, timeout))


async def _wait_idle(settings: Settings, quiet: float, timeout: float) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(**client_options(settings))
    consumer = AIOKafkaConsumer(**client_options(settings))
    await admin.start()
    await consumer.start()
    try:
        deadline, idle_since = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            committed = await admin.list_consumer_group_offsets(settings.streamapp_id)
            ends = await consumer.end_offsets(list(committed)) if committed else {}
            lag = sum(max(0, ends[tp] - meta.offset) for tp, meta in committed.items() if meta.offset >= 0)
            if lag == 0:
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since >= quiet:
                    return
            else:
                idle_since = None
            await asyncio.sleep(0.5)
    finally:
        await consumer.stop()
        await admin.close()


def offline_seconds(path: Path, work: Path) -> float:
    """What `streamapp classify --format linux` does to the file (parse, mine, classify every line,
    write the CSV), in this process, timed without the interpreter's start-up."""
    classifier = OfflineClassifier(RuleSet.load())
    start = time.perf_counter()
    classify_file(path, work / "offline.csv", LineFormat.from_spec("linux"), classifier, progress=False)
    return time.perf_counter() - start


def raw_client_seconds(settings: Settings, stream: str, n: int, page: int = 1000) -> float:
    """The client libraries' own ceiling on this machine, no app: XRANGE pages of `stream` (the next
    page read while the last is produced), each page as one batch record per partition (the
    bridge's encoding, acks=all), and a bare consumer decoding the records until it has `n` lines."""
    return asyncio.run(_raw_client(settings, stream, n, page))


async def _raw_client(settings: Settings, stream: str, n: int, page: int) -> float:
    topic = settings.topic_name("raw_ceiling")
    parts = settings.topic_partitions
    await ensure_topics(settings, {topic: parts})
    client = aioredis.from_url(settings.redis_url)
    producer = AIOKafkaProducer(**client_options(settings), acks="all", enable_idempotence=True,
                                linger_ms=5, max_batch_size=512 * 1024)
    consumer = AIOKafkaConsumer(topic, **client_options(settings), group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await producer.start()
    await consumer.start()

    async def consume() -> None:
        got = 0
        while got < n:
            for msgs in (await consumer.getmany(timeout_ms=100)).values():
                got += sum(len(LineBatch.loads(m.value).lines) for m in msgs)

    async def produce() -> None:
        after, futures = "-", []
        while True:
            entries = await client.xrange(stream, min=after, count=page)
            if not entries:
                break
            lines = [RawLine(i.decode(), f[b"source"].decode(), f[b"line"].decode()) for i, f in entries]
            records, _ = line_records(lines, lambda x: partition_for(x.source, parts))
            futures += [await producer.send(topic, value=data, partition=p) for p, _, data in records]
            after = "(" + entries[-1][0].decode()
        await asyncio.gather(*futures)

    start = time.perf_counter()
    try:
        await asyncio.gather(produce(), consume())
        return time.perf_counter() - start
    finally:
        await consumer.stop()
        await producer.stop()
        await client.aclose()


class Hops(threading.Thread):
    """Where a candidate's time goes, read beside the worker from Kafka's record timestamps (set by
    the producing client): when the inbound bridge produced each line, when the consumer sent it on
    to the aggregator (and under which issue key), when a sweep asked to close each key, and when
    each candidate was produced. Start it before the lines it should see are fed."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(daemon=True)
        self.settings, self.stop, self.ready = settings, False, threading.Event()
        self.bridged: dict[str, int] = {}  # line id -> ms
        self.parsed: dict[str, tuple[int, str]] = {}  # line id -> (ms, issue key)
        self.sweeps: dict[str, list[int]] = {}  # issue key -> ms of each close asked
        self.produced: dict[str, int] = {}  # candidate id -> ms

    def run(self) -> None:
        asyncio.run(self._consume())

    async def _consume(self) -> None:
        s = self.settings
        topics = {s.topic_name(t): t for t in ("logs", "issue_events", "issues_candidates")}
        consumer = AIOKafkaConsumer(**client_options(s), group_id=None, enable_auto_commit=False)
        await consumer.start()
        try:
            parts = [TopicPartition(t, p) for t in topics for p in range(s.topic_partitions)]
            consumer.assign(parts)
            await consumer.seek_to_end(*parts)
            for tp in parts:  # resolved now, so nothing fed from here on is missed
                await consumer.position(tp)
            self.ready.set()
            while not self.stop:
                for tp, msgs in (await consumer.getmany(timeout_ms=100)).items():
                    for m in msgs:
                        self._record(topics[tp.topic], m.value, m.timestamp)
        finally:
            await consumer.stop()

    def _record(self, topic: str, value: bytes, ms: int) -> None:
        if topic == "logs":
            self.bridged.update((line.id, ms) for line in LineBatch.loads(value).lines)
        elif topic == "issues_candidates":
            self.produced[IssueCandidate.loads(value).id] = ms
        elif isinstance(cmd := IssueEvents.loads(value), IssueLines):
            self.parsed.update((ev.id, (ms, key)) for key, events in cmd.groups.items() for ev in events)
        elif isinstance(cmd, IssueSweep):
            for action, key, *_ in cmd.actions:
                if action == "close":
                    self.sweeps.setdefault(key, []).append(ms)

    def hops(self, line_id: str, candidate_id: str, arrived_ms: int) -> list[float] | None:
        """Seconds from the line's XADD to the bridge's record, from there to the consumer's, from
        there to the sweep's close command, to the candidate's record, to its arrival in Redis; None
        unless every hop was seen and a sweep closed the issue (not its line cap)."""
        added = int(line_id.split("-")[0])
        bridged, (parsed, key) = self.bridged.get(line_id), self.parsed.get(line_id, (None, ""))
        produced = self.produced.get(candidate_id)
        if bridged is None or parsed is None or produced is None:
            return None
        swept = next((t for t in self.sweeps.get(key, []) if parsed <= t <= produced), None)
        if swept is None:
            return None
        return [(b - a) / 1000 for a, b in pairwise([added, bridged, parsed, swept, produced, arrived_ms])]
