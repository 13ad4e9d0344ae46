"""A drain cluster that remembers what refinement needs: values per position and line patterns.

The drain template of a unit (`log_template_tokens`) is coarse: it is what new lines are matched
against. A unit's lines are further split on its *split positions* (few distinct word-like
values) into sub-templates, each re-derived position by position from the patterns it holds.
"""

from __future__ import annotations

from streamapp.mining.masking import WILDCARD
from streamapp.mining.refine import Template, generalise, splittable

# Distinct values remembered per position; past this the position is a variable for good.
MAX_VALUES = 32
# Distinct patterns remembered per unit; past this the widest position is forgotten.
MAX_PATTERNS = 512

# What `absorb` changed (bit flags).
SUB = 1  # one sub-template was re-derived
ALL = 2  # split positions or patterns changed: every sub-template was re-derived
COARSE = 4  # the drain template changed


class Unit:
    """One drain cluster (drain3 reads `log_template_tokens` and `cluster_id`), plus statistics."""

    __slots__ = (
        "cluster_id",
        "forgotten",
        "log_template_tokens",
        "patterns",
        "size",
        "split",
        "subs",
        "values",
        "wilds",
        "words",
    )

    def __init__(self, tokens: Template, cluster_id: int) -> None:
        self.cluster_id = cluster_id
        self.log_template_tokens = tokens
        # The coarse template split for fast matching: its words (None at wildcards), its wildcards.
        self.words: tuple[str | None, ...] = ()
        self.wilds: tuple[str | None, ...] = ()
        self._set_coarse(tokens)
        self.forgotten = False  # some position's values were forgotten
        self.size = 0
        self.values: list[set[str] | None] = [set() for _ in tokens]
        self.patterns: dict[Template, int] = {}
        self.split: tuple[int, ...] = ()
        self.subs: dict[Template, Template] = {}

    def key(self, pattern: Template) -> Template:
        """The sub-template a pattern belongs to: its values at the split positions."""
        return tuple([pattern[i] for i in self.split])

    def pattern(self, shape: Template) -> Template:
        """`shape` with the forgotten positions as `<*>`."""
        if not self.forgotten:
            return shape
        return tuple([WILDCARD if v is None else t for t, v in zip(shape, self.values, strict=True)])

    def absorb(self, shape: Template, n: int = 1) -> int:
        """Count `n` lines of `shape` (same token count); returns what changed (`SUB|ALL|COARSE`)."""
        self.size += n
        pattern = self.pattern(shape)
        count = self.patterns.get(pattern)
        if count is not None:
            self.patterns[pattern] = count + n
            return 0
        grew = False
        for i, tok in enumerate(pattern):
            v = self.values[i]
            if v is not None and tok not in v:
                v.add(tok)
                grew = True
        self.patterns[pattern] = n
        flags = SUB
        wide = [i for i, v in enumerate(self.values) if v is not None and len(v) > MAX_VALUES]
        if len(self.patterns) > MAX_PATTERNS:
            wide.append(self._widest())
        if wide:
            self._forget(wide)
            flags |= ALL
        if grew or wide:
            flags |= self._rederive()
        if flags & ALL:
            self.rebuild_subs()
        else:
            key = self.key(pattern)
            old = self.subs.get(key)
            self.subs[key] = pattern if old is None else generalise((old, pattern))
        return flags

    def rebuild_subs(self) -> None:
        """Every sub-template, re-derived from the patterns in the order they were first seen."""
        groups: dict[Template, list[Template]] = {}
        for pattern in self.patterns:
            groups.setdefault(self.key(pattern), []).append(pattern)
        self.subs = {k: generalise(g) for k, g in groups.items()}

    def refresh(self) -> None:
        """Derive the coarse template, split positions and sub-templates (after a restore)."""
        self.forgotten = any(v is None for v in self.values)
        self._rederive()
        self.rebuild_subs()

    def _rederive(self) -> int:
        values = self.values
        coarse = tuple(next(iter(v)) if v is not None and len(v) == 1 else WILDCARD for v in values)
        split = tuple(i for i, v in enumerate(values) if v is not None and splittable(v, coarse[i - 1] if i else ""))
        flags = 0
        if coarse != self.log_template_tokens:
            self._set_coarse(coarse)
            flags |= COARSE
        if split != self.split:
            self.split = split
            flags |= ALL
        return flags

    def _set_coarse(self, coarse: Template) -> None:
        self.log_template_tokens = coarse
        self.words = tuple([None if t == WILDCARD else t for t in coarse])
        self.wilds = tuple([WILDCARD if t == WILDCARD else None for t in coarse])

    def _widest(self) -> int:
        sizes = [(len(v) if v is not None and len(v) > 1 else 0, -i) for i, v in enumerate(self.values)]
        return -max(sizes)[1]

    def _forget(self, positions: list[int]) -> None:
        for i in positions:
            self.values[i] = None
        self.forgotten = True
        merged: dict[Template, int] = {}
        for pattern, n in self.patterns.items():
            p = self.pattern(pattern)
            merged[p] = merged.get(p, 0) + n
        self.patterns = merged
