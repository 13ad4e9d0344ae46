"""Classification without an LLM (pure): rule signals, a keyword model and labelled neighbours."""

from __future__ import annotations

from streamapp.classify.offline import NAME, LineVerdict, OfflineClassifier
from streamapp.classify.subjects import Neighbour, Subject, Unit, from_cluster, from_issue, from_line

__all__ = [
    "NAME", "LineVerdict", "Neighbour", "OfflineClassifier", "Subject", "Unit", "from_cluster", "from_issue",
    "from_line",
]
