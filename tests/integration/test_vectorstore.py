"""The Chroma vector store, embedded and against a real `chroma run` server on loopback.

Each mode upserts 10,000 embedded lines in batches, queries with `where` filters, tags many ids in one
call, then checks that everything is still there from a new process after a restart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from chromadb.api.types import DefaultEmbeddingFunction
from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

from connectors.vector_process import AsyncVectorStore
from connectors.vectorstore import ChromaVectorStore, Stored, collection_name, open_client
from streamapp.embedding import HashedTfidfEmbedder, Vectors
from streamapp.errors import ConfigError, TransientError
from streamapp.processes import free_port
from streamapp.settings import Settings
from tests.conftest import REPO
from tests.integration.chroma_server import ChromaServer

pytestmark = pytest.mark.integration

N_LINES = 10_000
BATCH = 1_000
OS = "linux"
HOSTS = [f"node-{i}" for i in range(7)]
USERS = ["alice", "bob", "carol", "dave", "erin", "frank"]
FILTER = {"$and": [{"level": "ERROR"}, {"host": "node-3"}]}
CLUSTER = {"cluster_id": "c-1"}
TEMPLATES = [
    "Connection refused to <*> port <*> by user {w}",
    "Disk quota exceeded for user {w} on volume <*>",
    "Accepted password for {w} from <*> port <*> ssh2",
    "session opened for user {w} by uid <*>",
    "kernel: eth0 link is down, renegotiating with peer {w}",
    "connectionTimeout while fetching block <*> from {w}",
    "Out of memory: killed process <*> ({w})",
    "authentication failure for {w}; logname= uid=<*>",
    "Received block <*> of size <*> from {w}",
    "PacketResponder <*> for block <*> terminating on {w}",
]
# Unseen lines to search with: one of a template the filter allows, one of a template it excludes.
PROBES = [
    "Connection refused to 10.1.2.3 port 443 by user carol",
    "Disk quota exceeded for user carol on volume 7",
]
# Stored vectors are nudged apart by about 1e-3 (see `ChromaVectorStore.upsert`).
TOLERANCE = 3e-3


class Corpus:
    """10,000 synthetic lines from a few templates, with metadata and their local embeddings.

    Like real logs, most lines embed exactly like others of their template and user (numbers are
    dropped), which is the case HNSW handles worst.
    """

    def __init__(self) -> None:
        self.ids = [f"line-{i}" for i in range(N_LINES)]
        self.texts: list[str] = []
        self.metadatas: list[dict[str, str | int]] = []
        for i in range(N_LINES):
            template, user = i % len(TEMPLATES), USERS[i // len(TEMPLATES) % len(USERS)]
            self.texts.append(TEMPLATES[template].replace("<*>", str(i * 7919 % 65536)).format(w=user))
            level = "ERROR" if template in (0, 5) else "INFO"
            self.metadatas.append({"host": HOSTS[i % len(HOSTS)], "level": level, "template": template, "user": user})
        embedder = HashedTfidfEmbedder.from_templates(TEMPLATES)
        self.vectors: Vectors = embedder.vectors(self.texts)
        self.probes: Vectors = embedder.vectors(PROBES)
        self.allowed = [i for i, m in enumerate(self.metadatas) if m["level"] == "ERROR" and m["host"] == "node-3"]

    def nearest(self, probe: int) -> tuple[float, set[str]]:
        """Brute force: the cosine distance from a probe to the nearest line passing `FILTER`, and
        every such line at that distance (lines tie)."""
        distances = 1.0 - self.vectors[self.allowed] @ self.probes[probe]
        best = float(distances.min())
        return best, {self.ids[i] for i, d in zip(self.allowed, distances, strict=True) if d <= best + TOLERANCE}


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus()


@pytest.fixture(autouse=True)
def no_default_embedding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chroma's default embedding function downloads a model: fail the test if anything calls it."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("Chroma's default embedding function was used")

    monkeypatch.setattr(DefaultEmbeddingFunction, "__call__", refuse)
    monkeypatch.setattr(ONNXMiniLM_L6_V2, "__call__", refuse)
    monkeypatch.setattr(ONNXMiniLM_L6_V2, "_download_model_if_not_exists", refuse)


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path / "server-data", tmp_path / "chroma.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def fill_and_check(store: ChromaVectorStore, corpus: Corpus) -> None:
    """Upsert everything in batches, query with filters, tag a cluster: the checks both modes share."""
    for start in range(0, N_LINES, BATCH):
        end = start + BATCH
        store.upsert(
            "logs",
            OS,
            corpus.ids[start:end],
            corpus.vectors[start:end],
            corpus.metadatas[start:end],
            corpus.texts[start:end],
        )
    # stable ids: replaying a batch replaces, it does not duplicate
    store.upsert("logs", OS, corpus.ids[:BATCH], corpus.vectors[:BATCH], corpus.metadatas[:BATCH], corpus.texts[:BATCH])
    assert store.count("logs", OS) == N_LINES

    results = store.query("logs", OS, corpus.probes, n_results=5, where=FILTER)
    for probe, hits in enumerate(results):
        best, nearest_ids = corpus.nearest(probe)
        assert len(hits) == 5
        assert all(h.metadata["level"] == "ERROR" and h.metadata["host"] == "node-3" for h in hits)
        assert [h.distance for h in hits] == sorted(h.distance for h in hits)
        assert hits[0].distance == pytest.approx(best, abs=TOLERANCE)
        assert hits[0].id in nearest_ids
    allowed_template = results[0][0]
    assert allowed_template.distance < TOLERANCE
    assert (allowed_template.metadata["template"], allowed_template.metadata["user"]) == (0, "carol")
    assert allowed_template.document == corpus.texts[int(allowed_template.id.removeprefix("line-"))]

    tagged = corpus.ids[2_000:4_000]
    store.update_metadata("logs", OS, tagged, CLUSTER)
    got = store.get("logs", OS, where=CLUSTER)
    assert sorted(s.id for s in got) == sorted(tagged)
    assert all(s.metadata["host"] == corpus.metadatas[int(s.id.removeprefix("line-"))]["host"] for s in got)


REOPEN = """
import json, sys
from pathlib import Path
from connectors.vectorstore import ChromaVectorStore, open_client

args = json.load(sys.stdin)
store = ChromaVectorStore(open_client(path=Path(args["path"]), url=args["url"], timeout=10))
hits = store.query("logs", args["os"], [args["vector"]], n_results=1, where=args["where"])
print(json.dumps({
    "count": store.count("logs", args["os"]),
    "nearest": hits[0][0].id,
    "tagged": len(store.get("logs", args["os"], where=args["tagged"])),
}))
store.close()
"""


def reopen_in_new_process(corpus: Corpus, *, path: Path, url: str = "") -> None:
    """A fresh process sees every line, the same nearest neighbour and the tagged cluster."""
    request = {
        "path": str(path),
        "url": url,
        "os": OS,
        "vector": corpus.probes[0].tolist(),
        "where": FILTER,
        "tagged": CLUSTER,
    }
    done = subprocess.run(
        [sys.executable, "-c", REOPEN],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=True,
    )
    seen = json.loads(done.stdout)
    assert seen["count"] == N_LINES
    assert seen["nearest"] in corpus.nearest(0)[1]
    assert seen["tagged"] == 2_000


@pytest.mark.slow
def test_embedded_store_round_trip_and_persistence(tmp_path: Path, corpus: Corpus) -> None:
    path = tmp_path / "chroma"
    store = ChromaVectorStore(open_client(path=path))
    fill_and_check(store, corpus)
    store.close()
    reopen_in_new_process(corpus, path=path)


@pytest.mark.slow
def test_server_store_round_trip_and_restart(tmp_path: Path, corpus: Corpus, chroma_server: ChromaServer) -> None:
    store = ChromaVectorStore(open_client(path=tmp_path / "unused", url=chroma_server.url, timeout=10))
    fill_and_check(store, corpus)
    store.close()
    chroma_server.restart()
    reopen_in_new_process(corpus, path=tmp_path / "unused", url=chroma_server.url)


async def test_async_facade_and_cosine_space(tmp_path: Path) -> None:
    store = AsyncVectorStore(ChromaVectorStore(open_client(path=tmp_path / "chroma")))
    a = np.array([1.0, 0.0, 0.0], np.float32)
    b = np.array([0.6, 0.8, 0.0], np.float32)  # cos(a, b) = 0.6
    await store.upsert("templates", "Cisco IOS-XE", ["t-a", "t-b"], np.stack([a, b]), [{"n": 1}, {}])
    [[first, second]] = await store.query("templates", "Cisco IOS-XE", a[None], n_results=2)
    assert (first.id, second.id) == ("t-a", "t-b")
    assert second.distance == pytest.approx(0.4, abs=TOLERANCE)  # cosine, not squared L2 (0.8)
    await store.update_metadata("templates", "Cisco IOS-XE", ["t-a", "t-b", "missing"], [{"c": "x"}] * 3)
    stored = await store.get("templates", "Cisco IOS-XE", ids=["t-a", "t-b"])
    assert {s.id: s.metadata for s in stored} == {"t-a": {"n": 1, "c": "x"}, "t-b": {"c": "x"}}
    assert await store.count("templates", "Cisco IOS-XE") == 2
    await store.close()


async def test_child_process_store_answers_and_leaves_the_event_loop_running(tmp_path: Path) -> None:
    store = AsyncVectorStore.in_child_process(Settings(chroma_path=tmp_path / "chroma"))
    await store.upsert("templates", OS, ["t-a"], np.eye(1, 8, dtype=np.float32), [{"n": 1}], ["doc a"])
    assert await store.get("templates", OS, ids=["t-a"]) == [Stored(id="t-a", metadata={"n": 1}, document="doc a")]
    assert store.child is not None and store.child._proc is not None
    environ = Path(f"/proc/{store.child._proc.pid}/environ").read_bytes().split(b"\0")
    assert (b"MALLOC_ARENA_MAX=2" in environ) == ("MALLOC_ARENA_MAX" not in os.environ), "two arenas unless chosen"
    with pytest.raises(ValueError, match="2 ids but 1 embeddings"):  # the child's refusal, as the caller knows it
        await store.upsert("templates", OS, ["x", "y"], np.eye(1, 8, dtype=np.float32))
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    vectors = np.random.default_rng(1).random((3000, 64), dtype=np.float32)
    await store.add_new("logs", OS, [f"{i}-0" for i in range(3000)], vectors)  # seconds of work in Chroma
    ticker.cancel()
    assert ticks >= 10, "the loop kept running while the child worked"
    assert await store.count("logs", OS) == 3000
    await store.close()
    assert store.child is not None and store.child._proc is None


def test_upsert_replaces_whole_items_keeps_the_last_repeat_and_checks_lengths(tmp_path: Path) -> None:
    store = ChromaVectorStore(open_client(path=tmp_path / "chroma"))
    vectors = np.eye(3, dtype=np.float32)
    store.upsert("proto", OS, ["p", "q", "p"], vectors, [{"v": 1}, {"v": 2}, {"v": 3}])
    assert {s.id: s.metadata["v"] for s in store.get("proto", OS)} == {"p": 3, "q": 2}
    store.update_metadata("proto", OS, ["q"], CLUSTER)
    store.upsert("proto", OS, ["q"], vectors[1:2], [{"v": 4}])
    assert store.get("proto", OS, ids=["q"])[0].metadata == {"v": 4}
    with pytest.raises(ValueError, match="3 ids but 2 embeddings"):
        store.upsert("proto", OS, ["a", "b", "c"], vectors[:2])
    store.close()


def test_unreachable_server_is_transient_and_a_bad_url_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(TransientError):
        open_client(path=tmp_path, url=f"http://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(ConfigError, match="CHROMA_URL"):
        open_client(path=tmp_path, url="127.0.0.1:8000")


@pytest.mark.parametrize(
    ("os_name", "expected"),
    [("linux", "logs_linux"), ("Cisco IOS-XE", "logs_cisco-ios-xe"), ("", "logs_unknown"), ("_", "logs_unknown")],
)
def test_collection_names_are_valid_for_chroma(os_name: str, expected: str) -> None:
    assert collection_name("logs", os_name) == expected


def test_a_collection_filled_by_another_embedder_is_recreated_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "chroma"
    first = ChromaVectorStore(open_client(path=path), embedder="hashed-tfidf-3")
    first.upsert("templates", OS, ["t-a", "t-b"], np.eye(3, dtype=np.float32)[:2])
    first.close()
    same = ChromaVectorStore(open_client(path=path), embedder="hashed-tfidf-3")
    assert same.count("templates", OS) == 2, "the same embedder keeps what it stored"
    same.close()
    with caplog.at_level(logging.WARNING, logger="connectors.vectorstore"):
        other = ChromaVectorStore(open_client(path=path), embedder="wordllama-l2_supercat-256")
        assert other.count("templates", OS) == 0
    [record] = [r for r in caplog.records if "re-creating" in r.getMessage()]
    assert "hashed-tfidf-3" in record.getMessage() and "wordllama-l2_supercat-256" in record.getMessage()
    assert "2 items dropped" in record.getMessage()
    other.upsert("templates", OS, ["t-c"], np.ones((1, 256), np.float32))  # the new dimension is accepted
    assert [s.id for s in other.get("templates", OS)] == ["t-c"]
    other.close()
