"""The enricher takes candidates in batches (one embedding call, one prototype query per OS, one
alert-group transaction per failure): on a real embedded Chroma, each candidate is matched only
against its own OS's prototypes, and a batch raises the alerts its candidates raise one at a time."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from agents.enricher import Enricher
from connectors.alert_store import MemoryAlertGroups
from connectors.vector_process import AsyncVectorStore
from connectors.vectorstore import ChromaVectorStore, open_client
from streamapp.clock import ManualClock
from streamapp.embedding import HashedTfidfEmbedder
from streamapp.records import Alert, IssueCandidate
from streamapp.rules import RuleSet
from streamapp.settings import Settings
from streamapp.worker.deps import Deps

pytestmark = pytest.mark.integration

DISK = "EXT4-fs error (device sda1): ext4_find_entry: reading directory lblock 0"
OOM = "Out of memory: Killed process 4242 (java) total-vm:8388608kB"


class Sink:
    def __init__(self) -> None:
        self.sent: list[Alert] = []

    async def send(self, key: str, value: Alert, partition: int | None = None) -> None:
        self.sent.append(value)


def candidate(n: int, os_name: str, text: str) -> IssueCandidate:
    logs = [{"id": f"1700000000000-{n}-{i}", "raw": text, "templated": text, "template_id": f"t-{text[:8]}",
             "level": "ERROR"} for i in range(3)]
    return IssueCandidate(id=f"i-{n}", os=os_name, issue_key=f"{os_name}|h{n}|kernel|0", templated_summary=text,
                          logs=logs, host=f"h{n}", component="kernel", line_count=3,
                          template_ids=[f"t-{text[:8]}"])


def enricher(tmp_path: Path, store: AsyncVectorStore) -> Enricher:
    settings = Settings(data_dir=tmp_path)
    deps = Deps(app=None, settings=settings, topics=SimpleNamespace(alerts=Sink()),  # type: ignore[arg-type]
                rules=RuleSet.load(), embedder=HashedTfidfEmbedder(256), clock=ManualClock())
    deps.connectors["alert_groups"] = MemoryAlertGroups(settings)
    deps._vectors = store
    return Enricher(deps)


async def test_a_batch_raises_what_its_candidates_raise_alone_each_against_its_own_os(tmp_path: Path) -> None:
    store = AsyncVectorStore(ChromaVectorStore(open_client(path=tmp_path / "chroma")))
    batch = [candidate(1, "linux", DISK), candidate(2, "windows", DISK), candidate(3, "linux", OOM),
             candidate(4, "linux", DISK)]
    together = enricher(tmp_path, store)
    # Operators said issues like the first are a network failure: a close prototype of Linux says so.
    (centroid,) = await together.template_centroids(batch[:1])
    await store.upsert("proto", "linux", ["proto-disk"], centroid[None, :],
                       [{"label": "network_link", "labelled_by": "operator"}], [DISK])

    centroids = await together.template_centroids(batch)
    found = await together.retrieval.prototypes_of([c.os for c in batch], centroids)
    assert [[n.id for n in hits] for hits in found] == [["proto-disk"], [], ["proto-disk"], ["proto-disk"]]
    assert found == [await together.retrieval.prototypes(c.os, v) for c, v in zip(batch, centroids, strict=True)]

    raised = await together.handle_batch(batch)
    assert together.deps.topics.alerts.sent == raised  # type: ignore[attr-defined]
    one_by_one = enricher(tmp_path, store)
    alone = [a for c in batch for a in await one_by_one.handle_batch([c])]
    assert [(a.id, a.failure_type, a.severity) for a in raised] == [(a.id, a.failure_type, a.severity) for a in alone]
    by_id = {a.id: a for a in raised}
    assert "alert-i-4" not in by_id, "the same failure on another Linux host joined the first's alert"
    assert by_id["alert-i-1"].failure_type == "network_link", "Linux's operator label applied"
    assert [h["host"] for h in by_id["alert-i-1"].hosts] == ["h1", "h4"], "hosts joined in the batch are listed"
    assert by_id["alert-i-2"].failure_type != "network_link", "Windows has no such prototype"
