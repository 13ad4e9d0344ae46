"""How well the analyzer found the injected incidents: a detection (alert) counts for an incident
when it cites at least one of the incident's lines and names its failure type."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Detection:
    id: str
    host: str
    failure_type: str
    line_ids: frozenset[str]


@dataclass(frozen=True)
class Scorecard:
    incidents: int
    detected: int
    detections: int
    true_detections: int
    misses: tuple[str, ...]
    false_detections: tuple[str, ...]

    @property
    def recall(self) -> float:
        return self.detected / self.incidents if self.incidents else 1.0

    @property
    def precision(self) -> float:
        return self.true_detections / self.detections if self.detections else 1.0


def score(
    incidents: Mapping[str, tuple[str, frozenset[str]]], detections: Iterable[Detection]
) -> Scorecard:
    """`incidents`: id -> (failure type, ids of its lines). Detections of `benign` never count
    against precision (they are the analyzer saying "nothing to act on")."""
    detections = [d for d in detections if d.failure_type != "benign"]
    found: set[str] = set()
    true, false = 0, []
    for det in detections:
        hits = [iid for iid, (ftype, lines) in incidents.items() if ftype == det.failure_type and lines & det.line_ids]
        if hits:
            true += 1
            found.update(hits)
        else:
            false.append(det.id)
    misses = tuple(sorted(set(incidents) - found))
    return Scorecard(len(incidents), len(found), len(detections), true, misses, tuple(false))
