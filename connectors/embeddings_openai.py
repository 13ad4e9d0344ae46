"""Embeddings from an OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, or Ollama's `/v1`).

An `Embedder` like the local one: texts go out in batches, vectors come back L2-normalised in input
order. The client does not retry by itself; failures surface as the project's typed errors
(`RateLimited` with the wait asked for, `AuthFailed`, `TransientError`) so the caller's retry
policy decides.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import openai
from openai import NOT_GIVEN, AsyncOpenAI

from connectors.openai_errors import typed_error
from streamapp.embedding import Vectors
from streamapp.errors import ExternalAPIError
from streamapp.settings import Settings

SYSTEM = "embeddings"
DEFAULT_MODEL = "text-embedding-3-small"
DEFAULT_MODELS = {"openai": DEFAULT_MODEL, "ollama": "nomic-embed-text"}
OLLAMA_URL = "http://127.0.0.1:11434/v1"
# The endpoint rejects empty input; any placeholder works since all blank lines are alike.
_BLANK = "(empty)"


class OpenAIEmbedder:
    """`Embedder` backed by an OpenAI-compatible embeddings endpoint."""

    def __init__(
        self, client: AsyncOpenAI, *, model: str, batch_size: int = 128, dimensions: int | None = None
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self._client = client
        self._model = model
        self.name = f"provider-{model}" + (f"-{dimensions}" if dimensions else "")
        self._batch_size = batch_size
        self._dimensions = dimensions

    @classmethod
    def from_settings(cls, settings: Settings, *, model: str = "", batch_size: int = 128) -> OpenAIEmbedder:
        """An embedder on `EMBEDDING_BASE_URL` (else `LLM_BASE_URL`, else Ollama's local default when
        `EMBEDDING_PROVIDER=ollama`) with `EMBEDDING_API_KEY` (else `LLM_API_KEY`), each request
        bounded by `LLM_TIMEOUT_SEC`. The model: `model`, else `EMBEDDING_MODEL`, else the provider's default."""
        provider = settings.embedding_provider
        base_url = settings.embedding_base_url or settings.llm_base_url or (OLLAMA_URL if provider == "ollama" else "")
        key = settings.embedding_api_key.get_secret_value() or settings.llm_api_key.get_secret_value()
        client = AsyncOpenAI(
            base_url=base_url or None,
            # Ollama ignores the key, but the client refuses to start without one.
            api_key=key or "unused",
            timeout=settings.llm_timeout_sec,
            max_retries=0,
        )
        chosen = model or settings.embedding_model or DEFAULT_MODELS.get(provider, DEFAULT_MODEL)
        return cls(client, model=chosen, batch_size=batch_size)

    async def embed(self, texts: Sequence[str]) -> Vectors:
        """One request per ``batch_size`` texts, in order; rows L2-normalised."""
        rows = []
        for start in range(0, len(texts), self._batch_size):
            batch = [text if text.strip() else _BLANK for text in texts[start : start + self._batch_size]]
            rows.append(await self._embed_batch(batch))
        if not rows:
            return np.zeros((0, self._dimensions or 0), np.float32)
        vectors = np.concatenate(rows).astype(np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0.0, 1.0, norms)

    async def _embed_batch(self, batch: list[str]) -> Vectors:
        try:
            response = await self._client.embeddings.create(
                input=batch,
                model=self._model,
                dimensions=self._dimensions or NOT_GIVEN,
                # Without it the client asks for base64, which Ollama does not serve.
                encoding_format="float",
            )
        except openai.APIError as exc:
            raise typed_error(SYSTEM, exc) from exc
        if len(response.data) != len(batch):
            raise ExternalAPIError(SYSTEM, 200, f"{len(response.data)} vectors for {len(batch)} inputs")
        ordered = sorted(response.data, key=lambda item: item.index)
        return np.array([item.embedding for item in ordered], np.float32)

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._client.close()
