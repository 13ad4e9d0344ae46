"""What both enrichers do with an LLM: a verdict cached by key (prompt version and model are part
of the key), asked for only on a miss, with the offline classifier answering whenever the LLM
cannot. The prompt is built lazily, so a cache hit costs no retrieval (no HyDE call) either."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from connectors.llm import UnusableAnswer
from streamapp.errors import StreamAppError
from streamapp.verdicts import (
    VERDICT_SCHEMA,
    InvalidVerdict,
    Verdict,
    cache_key,
    corroborate,
    parse_verdict,
    verdict_from_cache,
    verdict_to_cache,
)
from streamapp.worker.deps import Deps

log = logging.getLogger(__name__)


async def llm_verdict(
    deps: Deps,
    subject: Sequence[str],
    prompt: Callable[[], Awaitable[tuple[str, str]]],
    line_ids: Sequence[str],
    template_ids: Sequence[str],
    offline: Callable[[], Verdict],
) -> Verdict:
    """The verdict for `subject` (the cache key's basis): offline when no LLM is usable; else the
    cached LLM verdict (evidence re-pointed at these lines), else a fresh one, cached."""
    if not deps.llm_usable():
        return offline()
    assert deps.llm is not None
    cache = deps.verdict_cache()
    key = cache_key(subject, deps.llm.model)
    if cached := await cache.get(key):
        return corroborate(verdict_from_cache(cached, list(line_ids), list(template_ids)), offline())
    name = f"llm:{deps.llm.model}"
    known = {"known_line_ids": line_ids, "known_template_ids": template_ids}
    try:
        system, user = await prompt()
        answer, _ = await deps.llm.chat_json(
            system, user, VERDICT_SCHEMA, name="verdict", check=lambda o: parse_verdict(o, classifier=name, **known)
        )
        verdict = parse_verdict(answer, classifier=name, **known)
    except (StreamAppError, UnusableAnswer, InvalidVerdict) as exc:
        log.warning("LLM verdict failed (%s); the offline classifier answers", exc)
        return offline()
    await cache.put(key, verdict_to_cache(verdict))
    return corroborate(verdict, offline())
