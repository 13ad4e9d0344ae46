"""Enricher agent: issue candidates -> retrieval (HyDE) -> verdict -> alerts.

Per candidate: the nearest prototypes of its OS (their labels are evidence, an operator's label
decides), related lines and templates found with HyDE (the LLM writes lines the failure would
produce; without an LLM the issue's own templates are the query), then a verdict from the LLM, or
from the offline classifier when no LLM is configured, it is down, or it fails. LLM verdicts are
cached by (templates, prompt version, model): a recurring issue costs one call. The alert id
derives from the candidate id, so a replay writes the same alert, never a second one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import numpy as np
from faust.types import EventT

from agents.guard import guarded_batches
from agents.verdicts import llm_verdict
from connectors.alert_store import AlertGroups
from connectors.llm import UnusableAnswer
from streamapp import telemetry
from streamapp.alert_groups import AlertGroup, Occurrence
from streamapp.classify import OfflineClassifier
from streamapp.classify.subjects import Neighbour
from streamapp.clustering import prototype_id, template_centroid
from streamapp.enrichment import (
    HYDE_SCHEMA,
    grouped,
    hyde_prompt,
    issue_alert,
    issue_prompt,
    occurrence,
    operator_override,
)
from streamapp.errors import StreamAppError
from streamapp.issues import line_issue
from streamapp.records import Alert, IssueCandidate
from streamapp.vector_schema import labelled_by, prototype_label
from streamapp.verdicts import Verdict, worth_alerting
from streamapp.worker.deps import Deps

log = logging.getLogger(__name__)

class Retrieval:
    """Nearest prototypes, related lines and templates, for a set of query texts (best effort)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._with_protos: set[str] = set()  # OSes seen with prototypes: they are never removed

    async def prototypes(self, os_name: str, vector: np.ndarray, k: int = 3) -> list[Neighbour]:
        (hits,) = await self.prototypes_of([os_name], [vector], k)
        return hits

    async def prototypes_of(self, os_names: Sequence[str], vectors: Sequence[np.ndarray],
                            k: int = 3) -> list[list[Neighbour]]:
        """The nearest prototypes of each vector among its own OS's, one query per OS."""
        store = await self.deps.vectors()
        out: list[list[Neighbour]] = [[] for _ in vectors]
        for os_name in dict.fromkeys(os_names):
            if os_name not in self._with_protos:
                if not await store.count("proto", os_name):
                    continue
                self._with_protos.add(os_name)
            rows = [i for i, o in enumerate(os_names) if o == os_name]
            hits = await store.query("proto", os_name, np.stack([vectors[i] for i in rows]), n_results=k)
            for i, row in zip(rows, hits, strict=True):
                out[i] = [Neighbour(label=prototype_label(h.metadata), distance=h.distance,
                                    labelled_by=labelled_by(h.metadata), id=h.id, text=h.document or "") for h in row]
        return out

    async def related(self, os_name: str, texts: list[str], where: dict | None = None, k: int = 3) -> list[str]:
        store = await self.deps.vectors()
        vectors = await self.deps.embedder.embed(texts)
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
        self.groups = deps.alert_groups()

    async def handle_batch(self, candidates: Sequence[IssueCandidate]) -> list[Alert]:
        """Candidates taken together, the alerts sent: one embedding call for their templates, one
        prototype query per OS, one alert-group transaction per failure. Each round trip waits for
        the worker's event loop, which the other stages keep busy under load: one candidate at a
        time (about nine round trips each) an enricher sharing its worker falls behind a saturated
        aggregator (`ENRICHER_BATCH_RECORDS` says what batches cost)."""
        now = self.deps.clock.now()
        neighbours: list[list[Neighbour]] = [[] for _ in candidates]
        try:
            neighbours = await self.retrieval.prototypes_of([c.os for c in candidates],
                                                            await self.template_centroids(candidates))
        except (StreamAppError, OSError, ValueError) as exc:
            log.warning("enricher: retrieval unavailable (%s); classifying without neighbours", exc)
        worth = []
        for i, (c, protos) in enumerate(zip(candidates, neighbours, strict=True)):
            if i:
                await asyncio.sleep(0)  # a few ms of classifying each: the other stages run in between
            if (alert := await self.decide(c, protos, now)) is not None:
                worth.append(alert)
        return await raise_alerts(self.deps, self.groups, worth)

    async def template_centroids(self, candidates: Sequence[IssueCandidate]) -> list[np.ndarray]:
        ids = [{item.get("template_id") or item["templated"]: item["templated"] for item in c.logs} for c in candidates]
        vectors = await self.deps.template_vectors({tid: text for texts in ids for tid, text in texts.items()})
        return [template_centroid(vectors[tid] for tid in texts) for texts in ids]

    async def decide(self, candidate: IssueCandidate, protos: list[Neighbour],
                     now: float) -> tuple[Occurrence, Alert] | None:
        """The alert this candidate is worth, with its occurrence for grouping; None if none."""
        s = self.deps.settings
        verdict = operator_override(await self.classify(candidate, protos), protos)
        nearest = protos[0] if protos and 1 - protos[0].distance >= s.cluster_sim_threshold else None
        proto_id = nearest.id if nearest else prototype_id(candidate.os, candidate.id)
        if not worth_alerting(verdict):
            return None
        return occurrence(candidate, verdict, now), issue_alert(candidate, verdict, proto_id, now)

    async def related(self, candidate: IssueCandidate) -> list[str]:
        """Evidence beyond the issue: lines and templates near what the LLM expects this failure
        to produce (HyDE), or near the issue's own templates when the LLM cannot say."""
        queries = [item["templated"] for item in candidate.logs]
        try:
            queries = await self.hyde(candidate) or queries
            return await self.retrieval.related(candidate.os, queries)
        except (StreamAppError, OSError, ValueError) as exc:
            log.warning("enricher: related lines unavailable (%s)", exc)
            return []

    async def hyde(self, candidate: IssueCandidate) -> list[str]:
        """Lines the LLM expects this failure to produce; empty if it cannot answer now."""
        assert self.deps.llm is not None
        try:
            answer, _ = await self.deps.llm.chat_json(*hyde_prompt([i["raw"] for i in candidate.logs], candidate.os),
                                                      HYDE_SCHEMA, name="hyde")
        except (StreamAppError, UnusableAnswer) as exc:
            log.info("enricher: HyDE skipped (%s)", exc)
            return []
        return [str(x) for x in answer.get("lines", []) if str(x).strip()][:8]

    async def classify(self, candidate: IssueCandidate, protos: list[Neighbour]) -> Verdict:
        """The offline classifier without an LLM; with one, the cached verdict for these templates
        (no call at all, not even HyDE) or a fresh LLM verdict."""

        async def prompt() -> tuple[str, str]:
            return issue_prompt(candidate, protos, await self.related(candidate))

        return await llm_verdict(
            self.deps, list(candidate.template_ids) or [candidate.issue_key], prompt,
            [i["id"] for i in candidate.logs], list(candidate.template_ids),
            lambda: self.offline.classify_issue(candidate, protos),
        )


async def raise_alert(deps: Deps, groups: AlertGroups, occ: Occurrence, alert: Alert) -> Alert | None:
    raised = await raise_alerts(deps, groups, [(occ, alert)])
    return raised[0] if raised else None


async def raise_alerts(deps: Deps, groups: AlertGroups, worth: Sequence[tuple[Occurrence, Alert]]) -> list[Alert]:
    """Send each alert with its group's hosts, or nothing when an alert of the same failure and
    template family was raised within the window: the occurrence is then listed on that alert
    instead. A replay of the group's first occurrence finds itself the owner and is raised again
    (deduplicated downstream); a replay of another changes nothing. The alerts sent."""
    window = deps.settings.alert_group_window_sec
    owned: list[tuple[Alert, AlertGroup | None]]
    if window <= 0 or not worth:
        owned = [(alert, None) for _, alert in worth]
    else:
        try:
            joined = await groups.join_many([(occ, alert.id) for occ, alert in worth], window)
        except StreamAppError as exc:  # grouping is a convenience: without Redis, alert anyway
            log.warning("alert grouping unavailable (%s)", exc)
            owned = [(alert, None) for _, alert in worth]
        else:
            owned = [(alert, g) for (_, alert), g in zip(worth, joined, strict=True) if g.owner == alert.id]
    raised = [grouped(alert, group) if group else alert for alert, group in owned]
    for alert in raised:
        await deps.topics.alerts.send(key=alert.id, value=alert)
        telemetry.count("streamapp.alerts", type=alert.type)
    return raised


def register(deps: Deps) -> Enricher:
    enricher = Enricher(deps)
    s = deps.settings

    async def issues(events: list[EventT]) -> None:
        await enricher.handle_batch([e.value for e in events])

    # retry_alone: handling a candidate twice raises the same alert id, which grouping and the
    # outbound bridge recognise
    guarded_batches(deps, deps.topics.issues_candidates, "enricher", issues, size=s.enricher_batch_records,
                    within=s.enricher_batch_within_sec, retry_alone=True)
    if s.enable_per_line_candidates:  # each line candidate: a one-line issue, classified alike

        async def lines(events: list[EventT]) -> None:
            await enricher.handle_batch([line_issue(e.value) for e in events])

        guarded_batches(deps, deps.topics.line_candidates, "line_enricher", lines, size=s.enricher_batch_records,
                        within=s.enricher_batch_within_sec, retry_alone=True)
    return enricher
