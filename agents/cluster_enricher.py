"""Cluster enricher agent: cluster candidates -> the cluster's own lines and neighbour templates ->
verdict -> cluster alert; the prototype's label, failure type and confidence are updated (through
the agent that owns prototypes), unless an operator labelled it.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from agents.enricher import Retrieval, raise_alert
from agents.guard import guarded_agent
from agents.verdicts import llm_verdict
from streamapp.classify import OfflineClassifier
from streamapp.classify.subjects import Neighbour
from streamapp.clustering import template_centroid
from streamapp.enrichment import (
    cluster_alert,
    cluster_occurrence,
    cluster_prompt,
    operator_override,
)
from streamapp.errors import StreamAppError
from streamapp.records import Alert, ClusterCandidate, PrototypeCommand
from streamapp.vector_schema import cluster_lines
from streamapp.verdicts import Verdict, worth_alerting
from streamapp.worker.deps import Deps

log = logging.getLogger(__name__)


class ClusterEnricher:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.offline = OfflineClassifier(deps.rules)
        self.retrieval = Retrieval(deps)
        self.groups = deps.alert_groups()

    async def context(self, cc: ClusterCandidate) -> tuple[dict[str, str], list[Neighbour], list[str]]:
        """The cluster's templates, labelled prototypes near it (itself included: an operator's
        label on it decides), and its own lines from `logs_<os>` (best effort)."""
        templates = {s.get("template_id") or s["templated"]: s["templated"] for s in cc.sample_logs}
        try:
            store = await self.deps.vectors()
            stored = await store.get("templates", cc.os, ids=list(cc.template_ids))
            templates.update({t.id: t.document or "" for t in stored if t.document})
            centroid = template_centroid((await self.deps.template_vectors(templates)).values())
            protos = [
                replace(n, distance=0.0) if n.id == cc.cluster_id else n  # the cluster's own prototype
                for n in await self.retrieval.prototypes(cc.os, centroid)
            ]
            own = await store.query("logs", cc.os, centroid[None, :], n_results=10, where=cluster_lines(cc.cluster_id))
            related = [h.document or "" for h in own[0]]
        except (StreamAppError, OSError, ValueError) as exc:
            log.warning("cluster enricher: retrieval unavailable (%s)", exc)
            return templates, [], []
        return templates, protos, related

    async def handle(self, cc: ClusterCandidate) -> Alert | None:
        now = self.deps.clock.now()
        templates, protos, related = await self.context(cc)
        verdict = operator_override(await self.classify(cc, protos, related, templates), protos)
        labelled_by_operator = any(p.id == cc.cluster_id and p.labelled_by == "operator" for p in protos)
        if not labelled_by_operator:
            await self.deps.topics.prototype_commands.send(key=cc.os, value=PrototypeCommand(
                kind="label", os=cc.os, prototype_id=cc.cluster_id, label=str(verdict.failure_type),
                confidence=verdict.confidence, labelled_by=verdict.classifier, at=now,
            ))
        if not worth_alerting(verdict):
            return None
        return await raise_alert(self.deps, self.groups, cluster_occurrence(cc, verdict, now),
                                 cluster_alert(cc, verdict, now))

    async def classify(
        self, cc: ClusterCandidate, protos: list[Neighbour], related: list[str], templates: dict[str, str]
    ) -> Verdict:
        """Offline without an LLM; with one, the cached verdict for this candidate (a prototype at
        this size: a grown cluster is assessed again) or a fresh LLM verdict."""

        async def prompt() -> tuple[str, str]:
            return cluster_prompt(cc, protos, related, templates)

        return await llm_verdict(
            self.deps, [cc.id], prompt, list(cc.env_ids), list(cc.template_ids),
            lambda: self.offline.classify_cluster(cc, protos, templates),
        )


def register(deps: Deps) -> ClusterEnricher:
    enricher = ClusterEnricher(deps)
    guarded_agent(deps, deps.topics.clusters_candidates, "cluster_enricher", enricher.handle)
    return enricher
