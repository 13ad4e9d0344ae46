"""Enricher agent: issue candidates -> retrieval (HyDE) -> verdict -> alerts.

Per candidate: the nearest prototypes of its OS (their labels are evidence, an operator's label
decides), related lines and templates found with HyDE (the LLM writes lines the failure would
produce; without an LLM the issue's own templates are the query), then a verdict from the LLM, or
from the offline classifier when no LLM is configured, it is down, or it fails. LLM verdicts are
cached by (templates, prompt version, model): a recurring issue costs one call. The alert id
derives from the candidate id, so a replay writes the same alert, never a second one.
"""

from __future__ import annotations

import logging

import numpy as np
from redis.exceptions import RedisError

from connectors.llm import UnusableAnswer
from streamapp.classify import OfflineClassifier
from streamapp.classify.subjects import Neighbour
from streamapp.clustering import prototype_id
from streamapp.deps import Deps
from streamapp.enrichment import (
    HYDE_SCHEMA,
    cache_key,
    hyde_prompt,
    issue_alert,
    issue_prompt,
    operator_override,
    verdict_from_cache,
    verdict_to_cache,
    worth_alerting,
)
from streamapp.errors import StreamAppError
from streamapp.records import Alert, DeadLetter, IssueCandidate
from streamapp.verdicts import VERDICT_SCHEMA, InvalidVerdict, Verdict, parse_verdict

log = logging.getLogger(__name__)

CACHE_TTL_SEC = 7 * 86400


class Retrieval:
    """Nearest prototypes, related lines and templates, for a set of query texts (best effort)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def prototypes(self, os_name: str, vector: np.ndarray, k: int = 3) -> list[Neighbour]:
        store = await self.deps.vectors()
        if not await store.count("proto", os_name):
            return []
        (hits,) = await store.query("proto", os_name, vector[None, :], n_results=k)
        return [
            Neighbour(label=str(h.metadata.get("label") or h.metadata.get("failure_type") or ""),
                      distance=h.distance, labelled_by=str(h.metadata.get("labelled_by", "")), id=h.id,
                      text=h.document or "")
            for h in hits
        ]

    async def related(self, os_name: str, texts: list[str], where: dict | None = None, k: int = 3) -> list[str]:
        store = await self.deps.vectors()
        vectors = self.deps.embedder.vectors(texts)
        out: list[str] = []
        for kind in ("logs", "templates"):
            if not await store.count(kind, os_name):  # type: ignore[arg-type]
                continue
            hits = await store.query(kind, os_name, vectors, n_results=k, where=where if kind == "logs" else None)  # type: ignore[arg-type]
            out.extend(h.document or "" for row in hits for h in row)
        return list(dict.fromkeys(x for x in out if x))[:12]


class Enricher:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.offline = OfflineClassifier(deps.rules)
        self.retrieval = Retrieval(deps)
        self.llm_calls = 0

    def issue_vector(self, candidate: IssueCandidate) -> np.ndarray:
        texts = {item.get("template_id") or item["templated"]: item["templated"] for item in candidate.logs}
        vecs = self.deps.template_vectors(texts)
        mean = np.mean(np.stack(list(vecs.values())), axis=0)
        return mean / (np.linalg.norm(mean) or 1.0)

    async def handle(self, candidate: IssueCandidate) -> Alert | None:
        now = self.deps.clock.now()
        s = self.deps.settings
        protos: list[Neighbour] = []
        related: list[str] = []
        queries = [item["templated"] for item in candidate.logs]
        try:
            protos = await self.retrieval.prototypes(candidate.os, self.issue_vector(candidate))
            if self.deps.llm_usable():
                queries = await self.hyde(candidate) or queries
            related = await self.retrieval.related(candidate.os, queries)
        except (StreamAppError, OSError, ValueError) as exc:
            log.warning("enricher: retrieval unavailable (%s); classifying without neighbours", exc)
        verdict = operator_override(await self.classify(candidate, protos, related), protos)
        nearest = protos[0] if protos and 1 - protos[0].distance >= s.cluster_sim_threshold else None
        proto_id = nearest.id if nearest else prototype_id(candidate.os, candidate.id)
        if not worth_alerting(verdict):
            return None
        alert = issue_alert(candidate, verdict, proto_id, now)
        await self.deps.topics.alerts.send(key=alert.id, value=alert)
        return alert

    async def hyde(self, candidate: IssueCandidate) -> list[str]:
        """Lines the LLM expects this failure to produce; empty if it cannot answer now."""
        assert self.deps.llm is not None
        try:
            answer, _ = await self.deps.llm.chat_json(*hyde_prompt([i["raw"] for i in candidate.logs], candidate.os),
                                                      HYDE_SCHEMA, name="hyde")
            self.llm_calls += 1
        except (StreamAppError, UnusableAnswer) as exc:
            log.info("enricher: HyDE skipped (%s)", exc)
            return []
        return [str(x) for x in answer.get("lines", []) if str(x).strip()][:8]

    async def classify(self, candidate: IssueCandidate, protos: list[Neighbour], related: list[str]) -> Verdict:
        line_ids = [i["id"] for i in candidate.logs]
        template_ids = list(candidate.template_ids)
        if not self.deps.llm_usable():
            return self.offline.classify_issue(candidate, protos)
        assert self.deps.llm is not None
        redis = self.deps.redis()
        key = self.deps.settings.redis_key(cache_key(template_ids or [candidate.issue_key], self.deps.llm.model))
        try:
            cached = await redis.get(key)
        except (OSError, RedisError, StreamAppError) as exc:  # the cache is an optimisation, never a dependency
            log.warning("enricher: verdict cache unavailable (%s)", exc)
            cached = None
        if cached:
            return verdict_from_cache(cached, line_ids, template_ids)
        known = {"known_line_ids": line_ids, "known_template_ids": template_ids}
        name = f"llm:{self.deps.llm.model}"
        try:
            answer, _ = await self.deps.llm.chat_json(
                *issue_prompt(candidate, protos, related), VERDICT_SCHEMA, name="verdict",
                check=lambda o: parse_verdict(o, classifier=name, **known),
            )
            self.llm_calls += 1
            verdict = parse_verdict(answer, classifier=name, **known)
        except (StreamAppError, UnusableAnswer, InvalidVerdict) as exc:
            log.warning("enricher: LLM verdict failed (%s); offline classifier answers", exc)
            return self.offline.classify_issue(candidate, protos)
        try:
            await redis.set(key, verdict_to_cache(verdict), ex=CACHE_TTL_SEC)
        except (OSError, RedisError, StreamAppError) as exc:
            log.warning("enricher: verdict not cached (%s)", exc)
        return verdict


async def park(deps: Deps, stream: str, record_id: str, payload: bytes, exc: Exception) -> None:
    """A record a stage could not process goes to the dead-letter stream with the reason."""
    letter = DeadLetter(
        id=f"{stream}:{record_id}", reason=f"{type(exc).__name__}: {exc}"[:500], stream=stream,
        original_id=record_id, payload=payload[:2048].decode("utf-8", "replace"), failed_at=deps.clock.now(),
    )
    await deps.topics.deadletter.send(key=letter.id, value=letter)


def register(deps: Deps) -> Enricher:
    enricher = Enricher(deps)

    @deps.app.agent(deps.topics.issues_candidates, name="enricher")
    async def enrich(stream):  # type: ignore[no-untyped-def]
        async for candidate in stream:
            try:
                await enricher.handle(candidate)
            except Exception as exc:  # one bad candidate must not stop the stage: park it with the reason
                log.exception("enricher: candidate %s failed", candidate.id)
                await park(deps, "issues_candidates", candidate.id, candidate.dumps(), exc)

    return enricher
