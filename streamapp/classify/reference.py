"""The shipped reference set and its nearest-neighbour votes.

`reference.csv` beside this module holds template-like lines written by the team from general
knowledge of how software reports failures and routine work (kernel, storage, BMC, network gear,
mail, web and database servers, schedulers, mobile and desktop OSes), each labelled with a failure
type and the severity an on-call engineer would give it. No line comes from a data set the project
evaluates on. A text's vote is a softmax over its nearest references by cosine similarity of
semantic embeddings, so a paraphrase of a known failure (or of known routine chatter) counts even
when it shares no keyword with it.
"""

from __future__ import annotations

import csv
import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from streamapp.embedding import LocalEmbedder, local_embedder
from streamapp.taxonomy import FailureType, Severity

SHIPPED = Path(__file__).with_name("reference.csv")
K = 7  # neighbours that vote
TEMPERATURE = 0.03  # softmax temperature over cosine similarity: 0.03 apart weighs e times less
# Below this similarity a reference is about something else; the vote's strength falls to 0 there.
FLOOR = 0.45
FULL = 0.8  # similarity at which the vote counts fully


@dataclass(frozen=True)
class Reference:
    text: str
    failure_type: FailureType
    severity: Severity

    @property
    def alert(self) -> bool:
        return self.failure_type is not FailureType.BENIGN and self.severity.rank >= Severity.ERROR.rank


@dataclass(frozen=True)
class Vote:
    """What a text's nearest references say: a share per failure type and of alert-worthy references
    (each summing to at most 1), scaled by `strength` (0 when nothing is close)."""

    types: Mapping[FailureType, float]
    alert: float
    strength: float
    similarity: float  # the nearest reference's cosine similarity
    nearest: Reference | None
    severity: Mapping[FailureType, float]  # mean severity rank of the voting references, per type


NO_VOTE = Vote(types={}, alert=0.0, strength=0.0, similarity=0.0, nearest=None, severity={})


def load(path: Path = SHIPPED) -> list[Reference]:
    """Read a reference file (`text,failure_type,severity`); a bad row is an error naming its line."""
    out = []
    with path.open(newline="", encoding="utf-8") as f:
        for n, row in enumerate(csv.DictReader(f), start=2):
            try:
                out.append(Reference(row["text"].strip(), FailureType(row["failure_type"].strip()),
                                     Severity(row["severity"].strip())))
            except (KeyError, ValueError, AttributeError) as exc:
                raise ValueError(f"{path}:{n}: bad reference row {row!r}: {exc}") from None
    return out


class ReferenceIndex:
    """Reference lines embedded once; votes for many texts in one matrix product."""

    def __init__(self, references: Iterable[Reference], embedder: LocalEmbedder) -> None:
        self.references = list(references)
        self.embedder = embedder
        self._matrix = embedder.vectors([r.text for r in self.references])
        self._labels = [r.failure_type for r in self.references]

    @property
    def name(self) -> str:
        return self.embedder.name

    def with_extra(self, extra: Iterable[Reference]) -> ReferenceIndex:
        """This index plus more references (e.g. an operator's labelled templates)."""
        return ReferenceIndex([*self.references, *extra], self.embedder)

    def votes(self, texts: Sequence[str], exclude: Sequence[str] = ()) -> list[Vote]:
        """One vote per text. `exclude` drops references with exactly those texts (leave-one-out)."""
        if not texts or not self.references:
            return [NO_VOTE for _ in texts]
        sims = self.embedder.vectors(list(texts)) @ self._matrix.T
        if exclude:
            skip = [i for i, r in enumerate(self.references) if r.text in set(exclude)]
            sims[:, skip] = -1.0
        k = min(K, len(self.references))
        return [self._vote(row, np.argpartition(-row, k - 1)[:k]) for row in sims]

    def _vote(self, row: np.ndarray, top: np.ndarray) -> Vote:
        top = top[np.argsort(-row[top], kind="stable")]
        best = float(row[top[0]])
        weights = np.exp((row[top] - best) / TEMPERATURE)
        weights /= weights.sum()
        types: dict[FailureType, float] = {}
        ranks: dict[FailureType, float] = {}
        alert = 0.0
        for i, w in zip(top, weights, strict=True):
            ref = self.references[int(i)]
            types[ref.failure_type] = types.get(ref.failure_type, 0.0) + float(w)
            ranks[ref.failure_type] = ranks.get(ref.failure_type, 0.0) + float(w) * ref.severity.rank
            alert += float(w) * ref.alert
        severity = {ft: ranks[ft] / types[ft] for ft in types}
        strength = max(0.0, min(1.0, (best - FLOOR) / (FULL - FLOOR)))
        return Vote(types=types, alert=alert, strength=strength, similarity=best,
                    nearest=self.references[int(top[0])], severity=severity)


@functools.lru_cache(maxsize=2)
def shipped_index(kind: str = "semantic") -> ReferenceIndex:
    """The shipped references under the semantic embedder (the hashed one if the model is missing)."""
    return ReferenceIndex(load(), local_embedder(kind))


def severity_of(rank: float) -> Severity:
    return list(Severity)[max(0, min(len(Severity) - 1, math.floor(rank + 0.5)))]
