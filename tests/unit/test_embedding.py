"""Embedders: the local hashed TF-IDF one, and the OpenAI-compatible one against a local HTTP double."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import numpy as np
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from connectors.embeddings_openai import OpenAIEmbedder
from streamapp.embedding import HashedTfidfEmbedder, tokenize
from streamapp.errors import AuthFailed, ExternalAPIError, RateLimited, TransientError
from streamapp.settings import load_settings
from tests.conftest import REPO

TEMPLATES = [
    "Connection refused to <*> port <*>",
    "connectionRefused while opening socket <*>",
    "Disk quota exceeded for user <*> on volume <*>",
    "session opened for user <*> by uid <*>",
    "kernel: eth0 link is down",
    "error reading block <*> from datanode <*>",
    "error writing checkpoint <*> to disk",
]
ODD_INPUTS = [
    "",
    "   ",
    "<*> <*>",
    "!!! ### ???",
    "12345 0xdeadbeef 10.0.0.1",
    "日本語のログ",
    "a" * 100_000,
    "\x00\xff",
]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)  # rows are unit-length


def test_tokens_split_identifiers_and_drop_variables() -> None:
    text = "connectionRefused HTTPServer snake_case_name <*> 0xdeadbeef 12345 blk_-160899 ipv4 x Fehler"
    assert tokenize(text) == [
        "connection", "refused", "http", "server", "snake", "case", "name", "blk", "ipv4", "fehler",
    ]  # fmt: skip


@pytest.mark.parametrize("dim", [16, 512])
def test_vectors_have_fixed_dimension_and_unit_norm_whatever_the_input(dim: int) -> None:
    embedder = HashedTfidfEmbedder.from_templates(TEMPLATES, dim=dim)
    vectors = embedder.vectors(TEMPLATES + ODD_INPUTS)
    assert vectors.shape == (len(TEMPLATES) + len(ODD_INPUTS), dim)
    assert vectors.dtype == np.float32
    assert np.all(np.isfinite(vectors))
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert embedder.vectors([]).shape == (0, dim)


def test_texts_without_tokens_share_one_vector_far_from_real_text() -> None:
    embedder = HashedTfidfEmbedder.from_templates(TEMPLATES)
    blank, garbage, real = embedder.vectors(["", "!!! 123 <*>", "Connection refused"])
    np.testing.assert_allclose(blank, garbage)
    assert abs(cosine(blank, real)) < 0.2


def test_similar_templates_are_closer_than_unrelated_ones() -> None:
    embedder = HashedTfidfEmbedder.from_templates(TEMPLATES)
    refused, camel, quota, session = embedder.vectors(TEMPLATES[:4])
    assert cosine(refused, camel) > 0.3
    assert cosine(refused, camel) > cosine(refused, quota) + 0.2
    assert cosine(quota, session) > cosine(quota, refused)  # both name a user


def test_camel_case_and_spaced_words_embed_alike() -> None:
    embedder = HashedTfidfEmbedder()
    a, b = embedder.vectors(["connectionRefused", "connection refused"])
    assert cosine(a, b) == pytest.approx(1.0, abs=1e-6)


def test_idf_lowers_the_weight_of_tokens_every_template_has() -> None:
    corpus = [f"error {word} failed" for word in ("alpha", "bravo", "charlie", "delta")]
    pair = ["error alpha failed", "error bravo failed"]
    plain = HashedTfidfEmbedder()
    fitted = HashedTfidfEmbedder.from_templates([*corpus, "unrelated message"])
    before = cosine(*plain.vectors(pair))
    after = cosine(*fitted.vectors(pair))
    assert after < before


def test_observing_online_equals_fitting_and_state_rebuilds_the_embedder() -> None:
    online = HashedTfidfEmbedder(dim=64)
    for template in TEMPLATES:
        online.observe([template])
    fitted = HashedTfidfEmbedder.from_templates(TEMPLATES, dim=64)
    rebuilt = HashedTfidfEmbedder(64, docs=fitted.docs, df=fitted.df.tolist())
    np.testing.assert_array_equal(online.vectors(TEMPLATES), fitted.vectors(TEMPLATES))
    np.testing.assert_array_equal(rebuilt.vectors(TEMPLATES), fitted.vectors(TEMPLATES))


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="dim"):
        HashedTfidfEmbedder(dim=1)
    with pytest.raises(ValueError, match="shape"):
        HashedTfidfEmbedder(dim=8, df=[0.0] * 4)


FINGERPRINT = """
import hashlib, json, sys
from streamapp.embedding import HashedTfidfEmbedder
templates, texts = json.load(sys.stdin)
vectors = HashedTfidfEmbedder.from_templates(templates).vectors(texts)
print(hashlib.sha256(vectors.tobytes()).hexdigest())
"""


def test_vectors_are_identical_across_processes_and_hash_seeds() -> None:
    texts = TEMPLATES + ODD_INPUTS[:-2]
    local = hashlib.sha256(HashedTfidfEmbedder.from_templates(TEMPLATES).vectors(texts).tobytes()).hexdigest()
    for seed in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-c", FINGERPRINT],
            input=json.dumps([TEMPLATES, texts]),
            capture_output=True,
            text=True,
            cwd=REPO,
            env={**os.environ, "PYTHONHASHSEED": seed},
            timeout=60,
            check=True,
        )
        assert done.stdout.strip() == local


async def test_embed_is_the_async_face_of_vectors() -> None:
    embedder = HashedTfidfEmbedder.from_templates(TEMPLATES)
    np.testing.assert_array_equal(await embedder.embed(TEMPLATES), embedder.vectors(TEMPLATES))


# --- OpenAI-compatible embedder, against a local double of POST /v1/embeddings ----------------------


@dataclass
class EmbeddingsDouble:
    """Answers like the real endpoint: one vector per input, listed in reverse to test reordering.
    With a `delay`, answers that late; a client hanging up meanwhile is counted in `abandoned`."""

    requests: list[dict[str, object]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    status: int = 200
    reply_headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    abandoned: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        try:
            await asyncio.sleep(self.delay)
        except asyncio.CancelledError:  # aiohttp cancels the handler of a request whose client hung up
            self.abandoned += 1
            raise
        if self.status != 200:
            error = {"error": {"message": "nope", "type": "test", "code": None, "param": None}}
            return web.json_response(error, status=self.status, headers=self.reply_headers)
        data = [
            {"object": "embedding", "index": i, "embedding": [float(len(text)), 3.0, 4.0]}
            for i, text in enumerate(body["input"])
        ]
        usage = {"prompt_tokens": 1, "total_tokens": 1}
        return web.json_response({"object": "list", "data": data[::-1], "model": body["model"], "usage": usage})


@pytest.fixture
async def double() -> AsyncIterator[tuple[EmbeddingsDouble, str]]:
    state = EmbeddingsDouble()
    app = web.Application()
    app.router.add_post("/v1/embeddings", state.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield state, str(server.make_url("/v1"))
    await server.close()


def embedder_for(base_url: str, *, timeout: float = 5.0, batch_size: int = 2) -> OpenAIEmbedder:
    settings = load_settings(llm_base_url=base_url, llm_api_key="sk-test", llm_timeout_sec=timeout)
    return OpenAIEmbedder.from_settings(settings, model="test-embed", batch_size=batch_size)


async def test_openai_embedder_batches_orders_and_normalises(double: tuple[EmbeddingsDouble, str]) -> None:
    state, url = double
    embedder = embedder_for(url)
    texts = ["a", "", "ccc", "dddd", "eeeee"]
    vectors = await embedder.embed(texts)
    await embedder.aclose()

    assert [r["input"] for r in state.requests] == [["a", "(empty)"], ["ccc", "dddd"], ["eeeee"]]
    assert all(r["model"] == "test-embed" and r["encoding_format"] == "float" for r in state.requests)
    assert "dimensions" not in state.requests[0]
    assert state.headers[0]["Authorization"] == "Bearer sk-test"
    lengths = [1, len("(empty)"), 3, 4, 5]
    expected = (
        np.array([[n, 3.0, 4.0] for n in lengths]) / np.linalg.norm([[n, 3.0, 4.0] for n in lengths], axis=1)[:, None]
    )
    np.testing.assert_allclose(vectors, expected, rtol=1e-6)
    assert vectors.dtype == np.float32


async def test_openai_embedder_maps_failures_to_typed_errors(double: tuple[EmbeddingsDouble, str]) -> None:
    state, url = double
    embedder = embedder_for(url)
    state.status, state.reply_headers = 429, {"Retry-After": "7"}
    with pytest.raises(RateLimited) as limited:
        await embedder.embed(["x"])
    assert limited.value.retry_after == 7.0
    assert len(state.requests) == 1, "the client itself must not retry"
    state.status, state.reply_headers = 401, {}
    with pytest.raises(AuthFailed):
        await embedder.embed(["x"])
    state.status = 400
    with pytest.raises(ExternalAPIError) as failed:
        await embedder.embed(["x"])
    assert failed.value.status == 400
    await embedder.aclose()


async def test_openai_embedder_times_out(double: tuple[EmbeddingsDouble, str]) -> None:
    """The client gives up at its timeout (0.3 s): the double, answering after 2 s, sees it hang up."""
    state, url = double
    state.delay = 2.0
    embedder = embedder_for(url, timeout=0.3)
    with pytest.raises(TransientError):
        await embedder.embed(["x"])
    await embedder.aclose()
    for _ in range(200):  # the double notices the hang-up within its next check
        if state.abandoned:
            break
        await asyncio.sleep(0.05)
    assert (len(state.requests), state.abandoned) == (1, 1), "its one request, hung up on before the answer"
