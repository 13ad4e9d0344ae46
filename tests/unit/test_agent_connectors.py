"""Agents through their connectors' in-memory twins: the verdict cache, alert groups, the shared
group reader (the prototype improver) and the published source formats. No Redis here; the real
connectors are tested against Redis in tests/integration."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agents.consumer import LineConsumer
from agents.enricher import raise_alert
from agents.prototype_improver import Improver
from agents.verdicts import llm_verdict
from connectors.alert_store import MemoryAlertGroups
from connectors.redis_streams import MemoryGroupReader
from connectors.source_formats import MemorySourceFormats
from connectors.verdicts import MemoryVerdictCache
from streamapp.alert_groups import Occurrence
from streamapp.clock import ManualClock
from streamapp.embedding import HashedTfidfEmbedder
from streamapp.records import Alert
from streamapp.rules import RuleSet
from streamapp.settings import Settings
from streamapp.taxonomy import FailureType, Severity
from streamapp.verdicts import Verdict
from streamapp.worker.deps import Deps


class Sink:
    def __init__(self) -> None:
        self.sent: list = []

    async def send(self, key: str, value: object, partition: int | None = None) -> asyncio.Future:
        self.sent.append((key, value))
        delivered = asyncio.get_running_loop().create_future()  # the broker has it
        delivered.set_result(None)
        return delivered


class Topics:
    def __init__(self) -> None:
        self.alerts, self.prototype_commands = Sink(), Sink()


def make_deps(settings: Settings, clock: ManualClock | None = None, **connectors: object) -> Deps:
    deps = Deps(app=None, settings=settings, topics=Topics(), rules=RuleSet.load(),  # type: ignore[arg-type]
                embedder=HashedTfidfEmbedder(16), clock=clock or ManualClock())
    deps.connectors.update(connectors)
    return deps


class LLM:
    """Answers every verdict question alike, counting the calls."""

    model = "twin-model"

    def __init__(self) -> None:
        self.calls = 0

    async def chat_json(self, system: str, user: str, schema: dict, *, name: str, check) -> tuple[dict, None]:
        self.calls += 1
        return {"failure_type": "hardware_disk", "severity": "error", "confidence": 0.9, "summary": "disk failing",
                "evidence": {"line_ids": ["l1"], "template_ids": ["t1"]}}, None


def offline() -> Verdict:
    return Verdict(FailureType.HARDWARE_DISK, Severity.ERROR, 0.5, "offline", classifier="offline")


async def prompt() -> tuple[str, str]:
    return "system", "user"


async def test_a_cached_verdict_costs_no_llm_call_and_a_lost_cache_costs_no_verdict() -> None:
    settings = Settings()
    cache = MemoryVerdictCache(settings)
    deps = make_deps(settings, verdict_cache=cache)
    deps.llm = LLM()  # type: ignore[assignment]
    first = await llm_verdict(deps, ["t1"], prompt, ["l1"], ["t1"], offline)
    again = await llm_verdict(deps, ["t1"], prompt, ["l2"], ["t1"], offline)
    assert deps.llm.calls == 1 and len(cache.items) == 1  # type: ignore[attr-defined]
    assert (first.classifier, again.classifier) == ("llm:twin-model", "llm:twin-model+cache")
    assert again.line_ids == ("l2",), "a cached verdict cites the lines it is applied to"
    assert all(key.startswith(settings.redis_key("verdict:")) for key in cache.items)
    cache.down = True
    lost = await llm_verdict(deps, ["t2"], prompt, ["l3"], ["t1"], offline)
    assert lost.classifier == "llm:twin-model" and deps.llm.calls == 2  # type: ignore[attr-defined]


async def test_an_alert_storm_raises_one_alert_listing_its_hosts() -> None:
    settings = Settings(alert_group_window_sec=900)
    groups = MemoryAlertGroups(settings)
    deps = make_deps(settings, alert_groups=groups)
    sent = []
    for i, host in enumerate(("node-1", "node-2", "node-1")):
        occ = Occurrence(id=f"o{i}", host=host, failure_type="hardware_disk", template_ids=("t1",), t=100.0 + i)
        alert = Alert(id=f"a{i}", type="issue", os="linux", failure_type="hardware_disk", confidence=0.9, result={})
        sent.append(await raise_alert(deps, deps.alert_groups(), occ, alert))
    assert [a.id if a else None for a in sent] == ["a0", None, None]
    assert [key for key, _ in deps.topics.alerts.sent] == ["a0"]  # type: ignore[attr-defined]
    assert groups.fields["a0"]["host_count"] == 2 and groups.fields["a0"]["occurrences"] == 3
    replay = Occurrence(id="o0", host="node-1", failure_type="hardware_disk", template_ids=("t1",), t=100.0)
    again = Alert(id="a0", type="issue", os="linux", failure_type="hardware_disk", confidence=0.9, result={})
    assert (await raise_alert(deps, groups, replay, again)) is not None, "the owner's replay is raised again"
    assert groups.fields["a0"]["occurrences"] == 3, "a replay counts nothing twice"


async def test_the_improver_acknowledges_feedback_only_once_handed_on() -> None:
    clock = ManualClock()
    settings = Settings(prototype_improver_claim_idle_sec=60)
    reader = MemoryGroupReader(clock=clock)
    deps = make_deps(settings, clock)
    deps.connectors[f"group:{settings.stream_feedback}:prototype_improver"] = reader
    improver = Improver(deps)
    assert improver.feedback is reader
    reader.add({"os": "linux", "alert_id": "a1", "verdict": "correct"})
    reader.add({"os": "hdfs", "alert_id": "a2", "verdict": "incorrect"})
    sent = deps.topics.prototype_commands.sent  # type: ignore[attr-defined]
    assert await improver.run_once() == 2
    assert sorted(key for key, _ in sent) == ["hdfs", "linux"] and not reader.pending
    # A run that dies before its XACK leaves the entry pending: claimed again once idle, not lost.
    reader.add({"os": "linux", "alert_id": "a3", "verdict": "correct"})
    await reader.read()
    assert await improver.run_once() == 0 and len(reader.pending) == 1
    clock.advance(61)
    assert await improver.run_once() == 1 and not reader.pending
    assert [cmd.items[0]["alert_id"] for _, cmd in sent][-1] == "a3"


async def test_source_formats_come_through_their_connector(tmp_path: Path) -> None:
    formats = MemorySourceFormats({"src-1": "json"})
    consumer = LineConsumer(make_deps(Settings(data_dir=tmp_path), source_formats=formats))
    await consumer.refresh_formats()
    assert set(consumer.processor.profiles.by_id) == {"src-1"}
    formats.formats = {}
    await consumer.refresh_formats()
    assert consumer.processor.profiles.by_id == {}
