"""The miner's tuned parameters: one configuration for every log.

`bench/mine_accuracy.py` chooses them leave-one-system-out from a small grid centred on `DEFAULT`
(each held-out Loghub system is scored with the values the other eleven choose, judged on their
samples and on fresh-value regenerations of them; when they cannot tell two tunings apart, the one
nearer the centre wins). `DEFAULT` is what all twelve choose. Everything else in the miner is a
rule with a stated reason, not a fitted number.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Tuning:
    """How alike a line must be to join a cluster, and how many values a split may have."""

    # Share of a cluster's words (values left out) a line must repeat to join it.
    sim_th: float = 0.5
    # A position with more distinct values than this is a variable whatever they look like (a
    # message has a handful of alternatives for one word; enum-style symbols may have more, see
    # `units.SYMBOLS_MAX`).
    split_max: int = 6


DEFAULT = Tuning()
