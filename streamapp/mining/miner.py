"""Online template miner built on drain3's prefix tree (prototype)."""

from __future__ import annotations

import re
from operator import eq

from drain3.drain import Drain, LogCluster

from streamapp.mining.masking import WILDCARD, Masker

SIM_TH = 0.5
MAX_VALUES = 32
SPLIT_MAX = 8
_BOOL = {"true", "false", "yes", "no", "on", "off", "null", "none", "nil", "enabled", "disabled"}
_CONSTLIKE = re.compile(r"[A-Za-z]")


def constlike(v: str) -> bool:
    return WILDCARD not in v and _CONSTLIKE.search(v) is not None and v.lower().strip(".,;:") not in _BOOL


class Unit(LogCluster):
    __slots__ = ("patterns", "split", "subs", "values")

    def __init__(self, tokens: tuple[str, ...], cluster_id: int) -> None:
        super().__init__(tokens, cluster_id)
        self.size = 0
        self.values: list[set[str] | None] = [set() for _ in tokens]
        self.patterns: dict[tuple[str, ...], int] = {}
        self.split: tuple[int, ...] = ()
        self.subs: dict[tuple[str, ...], list] = {}

    def key(self, shape: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(shape[i] for i in self.split)

    def rebuild(self) -> None:
        """Recompute the coarse template, the split positions and the sub-templates."""
        vals = self.values
        self.log_template_tokens = tuple(
            next(iter(v)) if v is not None and len(v) == 1 else WILDCARD for v in vals
        )
        self.split = tuple(
            i
            for i, v in enumerate(vals)
            if v is not None and 1 < len(v) <= SPLIT_MAX and all(map(constlike, v))
        )
        groups: dict[tuple[str, ...], list] = {}
        for shape, n in self.patterns.items():
            k = self.key(shape)
            g = groups.get(k)
            if g is None:
                groups[k] = [n, list(shape)]
            else:
                g[0] += n
                t = g[1]
                for i, tok in enumerate(shape):
                    if t[i] != tok:
                        t[i] = WILDCARD
        self.subs = {k: [g[0], tuple(g[1])] for k, g in groups.items()}

    def absorb(self, shape: tuple[str, ...], n: int = 1) -> bool:
        """Count `n` lines of `shape`; True when templates must be rebuilt."""
        self.size += n
        if shape in self.patterns:
            self.patterns[shape] += n
            self.subs[self.key(shape)][0] += n
            return False
        grew = False
        for i, tok in enumerate(shape):
            v = self.values[i]
            if v is not None and tok not in v:
                v.add(tok)
                grew = True
                if len(v) > MAX_VALUES:
                    self.values[i] = None
                    self._collapse(i)
        shape = tuple(WILDCARD if self.values[i] is None else t for i, t in enumerate(shape))
        self.patterns[shape] = self.patterns.get(shape, 0) + n
        return True

    def _collapse(self, pos: int) -> None:
        merged: dict[tuple[str, ...], int] = {}
        for shape, n in self.patterns.items():
            s = (*shape[:pos], WILDCARD, *shape[pos + 1 :])
            merged[s] = merged.get(s, 0) + n
        self.patterns = merged

    def template_of(self, shape: tuple[str, ...]) -> tuple[str, ...]:
        sub = self.subs.get(self.key(shape))
        return self.log_template_tokens if sub is None else sub[1]


class _Tree(Drain):
    def get_seq_distance(self, seq1, seq2, include_params):  # type: ignore[no-untyped-def]
        n = len(seq1)
        if n == 0:
            return 1.0, 0
        same = sum(map(eq, seq1, seq2))
        both = sum(1 for a, b in zip(seq1, seq2, strict=True) if a == WILDCARD and b == WILDCARD)
        params = seq1.count(WILDCARD)
        if include_params:
            return (same + params - both) / n, params
        eff = n - both
        return (1.0 if eff == 0 else (same - both) / eff), params


class TemplateMiner:
    def __init__(self) -> None:
        self.masker = Masker()
        self.drain = _Tree(depth=4, sim_th=SIM_TH, max_children=100)
        self.by_template: dict[tuple[str, ...], int] = {}

    def add(self, message: str) -> Unit:
        tokens = self.masker.tokens(message)
        d = self.drain
        unit = d.tree_search(d.root_node, tokens, d.sim_th, False)
        if unit is None:
            d.clusters_counter += 1
            unit = Unit(tokens, d.clusters_counter)
            d.id_to_cluster[unit.cluster_id] = unit
            d.add_seq_to_prefix_tree(d.root_node, unit)
        old = unit.log_template_tokens
        if unit.absorb(tokens):
            unit.rebuild()
            if unit.log_template_tokens != old or unit.size == 1:
                self.by_template.pop(old, None)
                return self._settle(unit)
        return unit

    def _settle(self, unit: Unit) -> Unit:
        other = self.by_template.get(unit.log_template_tokens)
        if other is None or other == unit.cluster_id:
            self.by_template[unit.log_template_tokens] = unit.cluster_id
            return unit
        target = self.drain.id_to_cluster[other]
        for shape, n in unit.patterns.items():
            target.absorb(shape, n)
        target.rebuild()
        del self.drain.id_to_cluster[unit.cluster_id]
        return target

    def match(self, message: str) -> tuple[str, ...] | None:
        tokens = self.masker.tokens(message)
        d = self.drain
        u = d.tree_search(d.root_node, tokens, 1.0, True)
        if u is None:
            u = d.fast_match(d.get_clusters_ids_for_seq_len(len(tokens)), tokens, 1.0, True)
        if u is None:
            return None
        return u.template_of(tokens)

    def template(self, t: tuple[str, ...]) -> str:
        return " ".join(t)
