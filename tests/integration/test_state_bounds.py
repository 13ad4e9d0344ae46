"""Bounds on what the vector-store side of the pipeline remembers (issue 16 #18), on a real embedded
Chroma: prototypes per OS (the least recently used go, operators' last; the table, the index and
`proto_<os>` agree) and the consumer's set of templates known to be indexed (least recently used
forgotten), each with its drop counter."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

import agents.consumer
from agents.clustering import Clusterer
from agents.consumer import LineConsumer
from connectors.vector_process import AsyncVectorStore
from connectors.vectorstore import ChromaVectorStore, open_client
from streamapp import telemetry
from streamapp.clock import ManualClock
from streamapp.embedding import HashedTfidfEmbedder
from streamapp.issues import OpenIssue
from streamapp.records import ClosedIssue, ParsedEvent, PrototypeCommand
from streamapp.rules import RuleSet
from streamapp.settings import Settings
from streamapp.worker.deps import Deps
from tests.support.lines import distinct_lines

pytestmark = pytest.mark.integration

OS = "linux"


class Sink:
    def __init__(self) -> None:
        self.sent: list[object] = []

    async def send(self, key: str, value: object, partition: int | None = None) -> None:
        self.sent.append(value)


def dropped(what: str) -> float:
    return sum(v for v, attrs in telemetry.HEALTH_VALUES.read("streamapp.dropped") if attrs.get("what") == what)


def deps_on_chroma(tmp_path: Path, **settings: object) -> Deps:
    sinks = SimpleNamespace(clusters_candidates=Sink(), issue_events=Sink(), deadletter=Sink(), metrics=Sink(),
                            line_candidates=Sink(), pattern_counts=Sink())
    deps = Deps(app=SimpleNamespace(assignor=SimpleNamespace(assigned_actives=set)),  # type: ignore[arg-type]
                settings=Settings(data_dir=tmp_path, **settings), topics=sinks,  # type: ignore[arg-type]
                rules=RuleSet.load(), embedder=HashedTfidfEmbedder(256), clock=ManualClock())
    deps._vectors = AsyncVectorStore(ChromaVectorStore(open_client(path=tmp_path / "chroma")))
    return deps


def closed(n: int, template: str) -> ClosedIssue:
    tid = f"t{n}"
    issue = OpenIssue(key=f"{OS}|h{n}|app|1", os=OS, host=f"h{n}", component="app", pid="1", first_line_id=f"{n}-0",
                      first_t=float(n), last_t=float(n), opened_at=float(n), updated_at=float(n),
                      line_count=3, template_counts={tid: 3}, templates={tid: template})
    return ClosedIssue(id=f"i{n}", os=OS, issue_key=issue.key, key=issue.key, host=issue.host, component="app",
                       pid="1", line_count=3, emitted=True, severity="error", close_reason="idle", first_ts=0.0,
                       last_ts=0.0, issue=issue.asdict())


async def test_prototypes_per_os_keep_the_most_recently_used_and_operators_labels(tmp_path: Path) -> None:
    deps = deps_on_chroma(tmp_path, cluster_max_prototypes=3)
    table: dict = {}
    clusterer = Clusterer(deps, table)  # type: ignore[arg-type]  # the table's mapping interface
    before = dropped("prototypes")
    templates = distinct_lines(6)
    ids = [(await clusterer.apply(closed(n, templates[n]))).id for n in range(3)]  # type: ignore[union-attr]
    # Operators teach the oldest one: it becomes the most recently used, and the last to go.
    taught = [{"prototype_id": ids[0], "verdict": "incorrect", "failure_type": "hardware_disk"}]
    assert await clusterer.command(PrototypeCommand(kind="feedback", os=OS, items=taught, at=10.0)) == [ids[0]]
    ids += [(await clusterer.apply(closed(n, templates[n]))).id for n in range(3, 6)]  # type: ignore[union-attr]
    assert set(table) == {ids[0], ids[4], ids[5]}, "least recently used went first, the taught one stayed"
    assert clusterer.evicted == 3 and dropped("prototypes") - before == 3
    assert set(clusterer.centroids(OS)) == set(table)
    await clusterer.flush()
    mirrored = await (await deps.vectors()).get("proto", OS)
    assert {item.id for item in mirrored} == set(table)
    await (await deps.vectors()).close()


def event(n: int, template: str) -> ParsedEvent:
    return ParsedEvent(id=f"{n}-0", source="app.log", os=OS, host="h", component="app", pid="1", level="ERROR",
                       timestamp="", t=float(n), template_id=f"t{n}", template=template, params=[], raw=template)


async def test_the_consumers_set_of_indexed_templates_is_bounded(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(agents.consumer, "INDEXED_TEMPLATES", 5)
    consumer = LineConsumer(deps_on_chroma(tmp_path))
    before = dropped("indexed_templates")
    templates = distinct_lines(12)
    for n in range(12):
        await consumer.index([event(n, templates[n]), event(0, templates[0])])  # t0 in every batch: kept
    assert len(consumer.indexed_templates) == 5
    assert (OS, "t0") in consumer.indexed_templates and (OS, "t1") not in consumer.indexed_templates
    assert dropped("indexed_templates") - before == 7
    store = await consumer.deps.vectors()
    assert await store.count("templates", OS) == 12, "forgetting an id never removes the template from Chroma"
    await store.close()
