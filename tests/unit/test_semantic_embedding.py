"""The semantic embedder: loads from the installed wheel's files with no network, ranks paraphrases above
unrelated lines, and keeps the embedder contract (fixed dimension, unit rows, deterministic)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from connectors.embedders import embedder_from_settings
from connectors.embeddings_openai import OpenAIEmbedder
from streamapp import embedding
from streamapp.embedding import HashedTfidfEmbedder, ModelUnavailable, SemanticEmbedder, semantic_embedder
from streamapp.settings import load_settings
from tests.conftest import REPO
from tests.doubles.llm_double import LLMDouble

# (line, a paraphrase of it in other words, an unrelated line of the same register), written here.
PAIRS = [
    ("No space left on device", "the disk is full, cannot write file", "user admin logged in from the console"),
    ("Connection refused by database server", "could not connect to the postgres backend",
     "temperature sensor reading is normal"),
    ("Out of memory: killed process 812", "the kernel ran out of RAM and terminated a program",
     "scheduled backup finished successfully"),
    ("fan 3 stopped spinning", "cooling fan failure detected", "DNS query answered from cache"),
    ("power supply 2 lost input", "PSU lost AC power", "new TCP session opened to web server"),
    ("kernel panic - not syncing", "the operating system kernel crashed", "mail delivered to mailbox"),
    ("authentication failure for user root", "wrong password entered for login", "disk rebuild finished"),
    ("network link is down on eth0", "interface lost carrier, cable unplugged", "configuration file reloaded"),
    ("could not resolve hostname api.example.com", "DNS lookup failed for the host",
     "fan speed increased to 4000 RPM"),
    ("segmentation fault in worker process", "the program crashed with SIGSEGV", "user changed their password"),
    ("CPU temperature above threshold", "processor is overheating", "message queued for delivery"),
    ("uncorrectable ECC memory error on DIMM A1", "RAM module reported a multi-bit error",
     "HTTP GET /index.html returned 200"),
    ("request latency is very high", "responses are slow, taking several seconds", "cron job started"),
    ("invalid configuration: unknown option", "config file has a syntax error", "battery fully charged"),
    ("BGP neighbor went down, hold timer expired", "routing peer session lost", "screen brightness adjusted"),
    ("read error on disk sector 1024", "the hard drive has bad blocks", "new user account created"),
    ("service started successfully", "the daemon is now running", "filesystem is full"),
    ("session closed for user alice", "user alice logged out", "voltage below critical threshold"),
    ("timeout waiting for response from upstream server", "backend did not answer in time",
     "thermal sensor calibrated"),
    ("job completed in 12 seconds", "the task finished successfully", "memory parity error detected"),
    ("too many failed login attempts from 10.0.0.8", "possible brute force attack on ssh",
     "printer is out of paper"),
    ("filesystem remounted read-only after errors", "the volume switched to read only mode due to corruption",
     "client connected to chat server"),
    ("java.lang.OutOfMemoryError: Java heap space", "the JVM exhausted its heap memory",
     "link is up at 10 Gbps full duplex"),
    ("heartbeat lost from node 17", "node 17 stopped responding to health checks", "log file rotated"),
]


@pytest.fixture(scope="module")
def model() -> SemanticEmbedder:
    return semantic_embedder()


def test_paraphrases_rank_above_unrelated_lines(model: SemanticEmbedder) -> None:
    assert len(PAIRS) >= 20
    wrong = []
    for line, paraphrase, unrelated in PAIRS:
        a, p, u = model.vectors([line, paraphrase, unrelated])
        if not float(a @ p) > float(a @ u):
            wrong.append((line, round(float(a @ p), 3), round(float(a @ u), 3)))
    assert not wrong, wrong


def test_the_semantic_model_beats_the_hashed_one_on_paraphrases(model: SemanticEmbedder) -> None:
    """The point of the model: paraphrases share meaning, not words, which hashing cannot see."""
    hashed = HashedTfidfEmbedder()
    right = {"semantic": 0, "hashed": 0}
    for name, emb in (("semantic", model), ("hashed", hashed)):
        for line, paraphrase, unrelated in PAIRS:
            a, p, u = emb.vectors([line, paraphrase, unrelated])
            right[name] += float(a @ p) > float(a @ u)
    assert right["semantic"] > right["hashed"], right


def test_vectors_are_unit_rows_of_fixed_dimension_and_deterministic(model: SemanticEmbedder) -> None:
    odd = ["", "   ", "<*> <*>", "12345 0xdeadbeef 10.0.0.1", "日本語のログ", "a" * 50_000, "\x00\xff", "!!! ???"]
    vectors = model.vectors(odd)
    assert vectors.shape == (len(odd), 256) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(vectors, SemanticEmbedder().vectors(odd))
    assert model.vectors([]).shape == (0, 256)
    assert model.name == "wordllama-l2_supercat-256"


def test_numbers_and_wildcards_do_not_move_a_line(model: SemanticEmbedder) -> None:
    a, b = model.vectors(["I/O error on dev sdb sector 81231", "I/O error on dev sdb sector <*>"])
    assert float(a @ b) > 0.999


def test_a_missing_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedding.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelUnavailable, match="wordllama"):
        embedding.wordllama_files()


# Every socket connection but to loopback is refused, and HOME is an empty folder: the model can come
# from nowhere but the installed package's own files.
NO_NETWORK = textwrap.dedent("""
    import ipaddress, json, socket, sys

    def _loopback(host):
        try:
            return ipaddress.ip_address(str(host).split('%')[0]).is_loopback
        except ValueError:
            return host in ('localhost',)

    def guard(event, args):
        if event == 'socket.connect':
            address = args[1]
            if isinstance(address, tuple) and not _loopback(address[0]):
                raise ConnectionRefusedError(f'network refused in this test: {address}')
        if event == 'socket.getaddrinfo' and args[0] is not None and not _loopback(args[0]):
            raise ConnectionRefusedError(f'name lookup refused in this test: {args[0]}')

    sys.addaudithook(guard)
    try:
        socket.create_connection(('192.0.2.1', 80), timeout=1)
        refused = False
    except ConnectionRefusedError:
        refused = True
    from streamapp.embedding import semantic_embedder
    v = semantic_embedder().vectors(['disk full', 'no space left on device', 'user logged in'])
    print(json.dumps({'refused': refused, 'close': float(v[0] @ v[1]), 'far': float(v[0] @ v[2]),
                      'shape': list(v.shape)}))
""")


def test_the_model_loads_with_no_network(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-c", NO_NETWORK], capture_output=True, text=True, timeout=120,
                          cwd=REPO, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["refused"], "the guard must refuse a non-loopback connection"
    assert out["shape"] == [3, 256] and out["close"] > out["far"]
    assert not list(tmp_path.iterdir()), "nothing cached or downloaded under HOME"


def test_the_configured_embedder() -> None:
    assert embedder_from_settings(load_settings()).name == "wordllama-l2_supercat-256"
    hashed = embedder_from_settings(load_settings(embedding_provider="hashed", embedding_dim=64))
    assert hashed.name == "hashed-tfidf-64"


@pytest.mark.parametrize("flavor", ["openai", "ollama"])
async def test_provider_embeddings_from_settings(flavor: str) -> None:
    """`EMBEDDING_PROVIDER=openai|ollama`: the OpenAI-compatible `/v1/embeddings` of the double, with the
    provider's default model, the embedding URL and key falling back to the LLM's."""
    with LLMDouble(flavor) as llm:  # type: ignore[arg-type]
        model = llm.models[1]
        settings = load_settings(embedding_provider=flavor, embedding_model=model, llm_base_url=llm.url,
                                 llm_api_key=llm.api_key)
        embedder = embedder_from_settings(settings)
        assert isinstance(embedder, OpenAIEmbedder) and embedder.name == f"provider-{model}"
        try:
            vectors = await embedder.embed(["disk full", "fan failed", "disk full"])
        finally:
            await embedder.aclose()
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
        np.testing.assert_allclose(vectors[0], vectors[2])
        sent = [c for c in llm.calls if c.path.endswith("/embeddings")]
        assert sent and all(c.body["model"] == model for c in sent)
    assert OpenAIEmbedder.from_settings(load_settings(embedding_provider="ollama")).name == "provider-nomic-embed-text"


def test_without_the_model_the_hashed_embedder_stands_in(monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(embedding, "semantic_embedder", lambda: embedding.SemanticEmbedder("no-such-config"))
    with caplog.at_level("WARNING", logger="streamapp.embedding"):
        fallback = embedding.local_embedder("semantic", 64)
    assert fallback.name == "hashed-tfidf-64" and "semantic embedder unavailable" in caplog.text
