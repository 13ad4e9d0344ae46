"""The prototype improver, pure: operators' feedback on alerts becomes prototype labels, and the
prototypes of an OS are re-clustered (scikit-learn, agglomerative, cosine) so near-duplicate
prototypes share what operators taught about any of them. Corrected labels always win; labels a
classifier gave never replace an operator's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import AgglomerativeClustering

from streamapp.taxonomy import FailureType
from streamapp.verdicts import OPERATOR

PROPAGATED = "operator-propagated"


@dataclass(frozen=True)
class ProtoState:
    label: str
    labelled_by: str
    centroid: Sequence[float]


@dataclass(frozen=True)
class Relabel:
    prototype_id: str
    label: str
    labelled_by: str
    confidence: float


def feedback_labels(items: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """prototype id -> the label operators gave it, the latest feedback winning. `incorrect`
    with a corrected type teaches that type; `correct` confirms the alert's type."""
    labels: dict[str, str] = {}
    for item in items:
        proto = item.get("prototype_id") or item.get("cluster_id") or ""
        corrected = item.get("failure_type") or ""
        if not proto:
            continue
        if item.get("verdict") == "incorrect" and corrected in FailureType.__members__.values():
            labels[proto] = corrected
        elif item.get("verdict") == "correct" and item.get("failure_type_before"):
            labels[proto] = item["failure_type_before"]
    return labels


def improve(
    protos: Mapping[str, ProtoState], items: Sequence[Mapping[str, str]], sim_threshold: float
) -> list[Relabel]:
    """The label changes feedback `items` imply for the prototypes of one OS."""
    taught = {p: lbl for p, lbl in feedback_labels(items).items() if p in protos}
    changes = {p: Relabel(p, lbl, OPERATOR, 1.0) for p, lbl in taught.items()}
    ids = list(protos)
    if len(ids) >= 2 and taught:
        groups = AgglomerativeClustering(
            n_clusters=None, metric="cosine", linkage="average", distance_threshold=1.0 - sim_threshold,
        ).fit_predict(np.asarray([protos[i].centroid for i in ids], dtype=np.float64))
        for group in set(groups):
            members = [ids[k] for k in range(len(ids)) if groups[k] == group]
            teachers = [m for m in members if m in taught]
            if not teachers:
                continue
            label = taught[teachers[-1]]
            for m in members:
                if m not in changes and protos[m].labelled_by != OPERATOR:
                    changes[m] = Relabel(m, label, PROPAGATED, 0.9)
    return [c for c in changes.values() if (protos[c.prototype_id].label, protos[c.prototype_id].labelled_by)
            != (c.label, c.labelled_by)]
