"""Online clustering of closed issues into prototypes (pure, numpy only).

An issue's vector is the count-weighted mean of its template embeddings. It joins the most similar
prototype of its OS when cosine similarity >= threshold, else it founds a new one. A prototype keeps
a running centroid, a member count, a bounded template histogram and a few exemplar issues.

Cluster candidate policy: a prototype is sent on when its member count reaches `min_size`, and
again each time the count doubles (2x, 4x, 8x ... `min_size`), so a growing cluster is re-assessed
with more evidence while a stable one stays quiet.

Bounded: an OS keeps at most `max_prototypes`; past it the least recently used one goes (joined or
labelled), those an operator taught last, since their labels are human work.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from streamapp.improver import OPERATOR, PROPAGATED
from streamapp.issues import OpenIssue, issue_id, to_candidate
from streamapp.records import ClusterCandidate, Record

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True)
class ClusterPolicy:
    sim_threshold: float = 0.8
    min_size: int = 3
    max_templates: int = 30
    max_exemplars: int = 5
    sample_lines: int = 20
    recent_members: int = 500
    max_prototypes: int = 2000  # per OS


class Prototype(Record):
    """A cluster of similar issues: the prototypes table's value and the `proto_<os>` entry."""

    id: str
    os: str
    centroid: list
    member_count: int = 0
    template_counts: dict = {}  # template id -> lines over all members (top max_templates kept)
    templates: dict = {}  # template id -> text
    exemplars: list = []  # the latest member issues: {issue_id, issue_key, host, lines: [...]}
    recent_members: list = []  # ids of the latest member issues: a replayed issue is not counted twice
    label: str = ""  # failure type from the classifier or an operator
    failure_type: str = ""
    confidence: float = 0.0
    labelled_by: str = ""  # classifier name, or `operator`
    last_classified: float = 0.0
    last_emitted_count: int = 0
    created_at: float = 0.0
    updated_at: float = 0.0


def issue_vector(template_counts: Mapping[str, int], template_vectors: Mapping[str, Vector]) -> Vector:
    """Count-weighted mean of the issue's template embeddings, L2-normalised: what clustering
    compares (a template seen often weighs more). Retrieval queries with `template_centroid`."""
    dim = len(next(iter(template_vectors.values())))
    acc = np.zeros(dim, np.float64)
    for tid, n in template_counts.items():
        acc += n * template_vectors[tid]
    return _unit(acc)


def template_centroid(template_vectors: Iterable[Vector]) -> Vector:
    """Unweighted mean of some templates' embeddings (each once), L2-normalised: what the enrichers
    look up nearby prototypes and lines with (a candidate or cluster carries a sample, not counts)."""
    return _unit(np.mean(np.stack(list(template_vectors)), axis=0))


def _unit(v: npt.NDArray) -> Vector:
    norm = float(np.linalg.norm(v))
    return (v / norm if norm else v).astype(np.float32)


def nearest(vector: Vector, centroids: Mapping[str, Vector]) -> tuple[str | None, float]:
    """The most similar prototype (cosine; vectors are unit length) and its similarity."""
    if not centroids:
        return None, 0.0
    ids = list(centroids)
    sims = np.stack([centroids[i] for i in ids]) @ vector
    best = int(np.argmax(sims))
    return ids[best], float(sims[best])


def prototype_id(os: str, founder_issue_id: str) -> str:
    """Stable id: the same founding issue makes the same prototype after any replay."""
    return "p-" + hashlib.blake2b(f"{os}\x00{founder_issue_id}".encode(), digest_size=8).hexdigest()


def found(issue: OpenIssue, vector: Vector, now: float, policy: ClusterPolicy) -> Prototype:
    proto = Prototype(
        id=prototype_id(issue.os, issue_id(issue.key, issue.first_line_id)), os=issue.os,
        centroid=[float(x) for x in vector], created_at=now,
    )
    return join(proto, issue, vector, now, policy)


def is_member(proto: Prototype, issue: OpenIssue) -> bool:
    return issue_id(issue.key, issue.first_line_id) in proto.recent_members


def join(proto: Prototype, issue: OpenIssue, vector: Vector, now: float, policy: ClusterPolicy) -> Prototype:
    """Add a member: running mean of the centroid, histogram and exemplars updated, bounded."""
    proto.recent_members = [*proto.recent_members, issue_id(issue.key, issue.first_line_id)][-policy.recent_members :]
    n = proto.member_count
    centroid = (np.asarray(proto.centroid, np.float64) * n + vector) / (n + 1)
    proto.centroid = [float(x) for x in _unit(centroid)]
    proto.member_count = n + 1
    counts = dict(proto.template_counts)
    for tid, c in issue.template_counts.items():
        counts[tid] = counts.get(tid, 0) + c
    kept = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: policy.max_templates]
    proto.template_counts = dict(kept)
    texts = {**proto.templates, **issue.templates}
    proto.templates = {tid: texts[tid] for tid, _ in kept}
    exemplar = {
        "issue_id": issue_id(issue.key, issue.first_line_id), "issue_key": to_candidate(issue).issue_key,
        "host": issue.host, "lines": (issue.head + issue.tail)[: policy.sample_lines],
    }
    proto.exemplars = _within(policy.sample_lines, [*proto.exemplars, exemplar][-policy.max_exemplars :])
    proto.updated_at = now
    return proto


def _within(budget: int, exemplars: list[dict]) -> list[dict]:
    """The exemplars with the lines a cluster candidate can show (`budget`, newest exemplar first, as
    `to_cluster_candidate` takes them), each keeping at least its first line. The prototype is written
    to its table at every join: five exemplars of twenty lines made it tens of kB, most never shown."""
    out = []
    for ex in reversed(exemplars):
        keep = max(1, budget)
        out.append({**ex, "lines": ex["lines"][:keep]})
        budget -= len(out[-1]["lines"])
    return out[::-1]


def last_used(proto: Prototype) -> float:
    """When a prototype was last joined or labelled: what the bound's recency is measured by."""
    return max(proto.updated_at, proto.last_classified)


def taught(proto: Prototype) -> bool:
    """Whether an operator's feedback labelled it (directly or propagated)."""
    return proto.labelled_by in (OPERATOR, PROPAGATED)


def victim(least_recent_first: Iterable[tuple[str, bool]]) -> str:
    """Which prototype goes at the bound: the least recently used one no operator taught, else the
    least recently used. `least_recent_first` is (id, taught) pairs, oldest first, not empty."""
    first = None
    for pid, was_taught in least_recent_first:
        if not was_taught:
            return pid
        first = first or pid
    assert first is not None, "no prototype to drop"
    return first


def due_for_candidate(proto: Prototype, policy: ClusterPolicy) -> bool:
    """True when the member count reached min_size or doubled since the last candidate."""
    n = proto.member_count
    if n < policy.min_size:
        return False
    if proto.last_emitted_count == 0:
        return True
    return n >= 2 * proto.last_emitted_count


def to_cluster_candidate(proto: Prototype, policy: ClusterPolicy) -> ClusterCandidate:
    """The contract's cluster candidate: evidence lines of the latest exemplar issues."""
    samples: list[dict] = []
    for ex in reversed(proto.exemplars):
        for line in ex["lines"]:
            if len(samples) < policy.sample_lines:
                samples.append({
                    "raw": line["raw"], "templated": line["templated"], "os": proto.os,
                    "source": line.get("source", ""), "env_id": line["id"], "template_id": line.get("template_id", ""),
                })
    ranked = sorted(proto.template_counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ClusterCandidate(
        id=f"{proto.id}@{proto.member_count}",
        os=proto.os,
        cluster_id=proto.id,
        env_ids=[s["env_id"] for s in samples],
        sample_logs=samples,
        member_count=proto.member_count,
        template_ids=[tid for tid, _ in ranked],
        label=proto.label,
    )


def vectors_by_id(ids: Sequence[str], rows: npt.NDArray[np.float32]) -> dict[str, Vector]:
    return {tid: rows[i] for i, tid in enumerate(ids)}
