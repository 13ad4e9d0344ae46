"""The configured embedder (`EMBEDDING_PROVIDER`): the local semantic or hashed one, or a provider's."""

from __future__ import annotations

from connectors.embeddings_openai import OpenAIEmbedder
from streamapp.embedding import Embedder, local_embedder
from streamapp.settings import Settings


def embedder_from_settings(settings: Settings) -> Embedder:
    """`semantic` (default) and `hashed` run in-process; `openai` and `ollama` call `/v1/embeddings`."""
    if settings.embedding_provider in ("openai", "ollama"):
        return OpenAIEmbedder.from_settings(settings)
    return local_embedder(settings.embedding_provider, settings.embedding_dim)
