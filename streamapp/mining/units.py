"""A drain cluster that remembers what refinement needs, in bounded memory.

The coarse template of a unit (`log_template_tokens`: a token where every line agreed, else `<*>`)
is what drain matches new lines against. Per position the unit also keeps the distinct *keys*
(`token_key`) of its values, while there are few of them. Lines are grouped into patterns by
their keys at those positions (the *signature*); each pattern keeps the template of its lines,
re-derived position by position, and how many lines it had. The *split positions* (few word-like
keys, with the evidence of `refine.splittable`: the words around them, how often their values
repeat) divide the patterns into sub-templates: `VM Started` and `VM Stopped` are two templates,
however similar. A split is re-decided when the keys change and when a pattern's count crosses an
evidence step, so one that turns out to be a variable merges back.
"""

from __future__ import annotations

from functools import partial

from streamapp.mining.masking import WILDCARD
from streamapp.mining.refine import Template, evidence, generalise, splittable, symbol, token_key
from streamapp.mining.tuning import DEFAULT, Tuning

# Enum-style symbols (`RUNNING`, `DHCPACK`, `ESTABLISHED`) are kept as distinct values up to this
# many, whatever `Tuning.split_max` says: a state machine or a protocol has a dozen states or
# commands (TCP has eleven), and their number says nothing about being a variable.
SYMBOLS_MAX = 16
# Patterns kept per unit; past this the signature position with the most keys is dropped.
MAX_PATTERNS = 256

# What `absorb` changed (bit flags).
SUB = 1  # the sub-template of the line was re-derived
ALL = 2  # patterns or split positions changed: every sub-template was re-derived
COARSE = 4  # what drain matches against changed
EVIDENCE = 8  # a pattern's count crossed an evidence step (`refine.evidence`)
KEYS = 16  # a position has a new key (the split may change)


class Pattern:
    """Lines with one signature: their template so far, and how many they were."""

    __slots__ = ("count", "template")

    def __init__(self, template: Template, count: int) -> None:
        self.template = template
        self.count = count


class Unit:
    """One drain cluster (drain3 reads `log_template_tokens` and `cluster_id`), plus statistics."""

    __slots__ = (
        "cluster_id",
        "counted",
        "dropped",
        "keys",
        "log_template_tokens",
        "moves",
        "nwild",
        "patterns",
        "signed",
        "split",
        "subs",
        "tuning",
        "wilds",
        "words",
    )

    def __init__(self, tokens: Template, cluster_id: int, tuning: Tuning = DEFAULT) -> None:
        self.cluster_id = cluster_id
        self.tuning = tuning
        self.log_template_tokens = tokens
        # Per position, the distinct keys of its values; None once there are more than split_max.
        self.keys: list[set[str] | None] = [{token_key(t)} for t in tokens]
        self.dropped: set[int] = set()  # positions left out of signatures to bound the patterns
        self.signed: tuple[int, ...] = tuple(range(len(tokens)))  # positions in the signature
        self.patterns: dict[Template, Pattern] = {}
        self.split: tuple[int, ...] = ()  # indexes into the signature
        self.counted = False  # whether the split depends on counts (then evidence steps matter)
        self.subs: dict[Template, Template] = {}
        # (old key, new key) of every pattern, after an absorb that re-derived everything.
        self.moves: set[tuple[Template, Template]] = set()
        # What drain compares a line's keys with: the one key of a position (else None), and
        # the wildcards of the coarse template.
        self.words: tuple[str | None, ...] = ()
        self.wilds: tuple[str | None, ...] = ()
        self.nwild = 0  # positions left out of matching (ties go to the unit with more)
        self._derive_match()

    def signature(self, keys: Template) -> Template:
        """A line's keys (`token_key` of each token) at the signature positions."""
        return tuple([keys[i] for i in self.signed])

    def key(self, signature: Template) -> Template:
        """The sub-template a signature belongs to: its keys at the split positions."""
        return tuple([signature[j] for j in self.split])

    def absorb(self, shape: Template, keys: Template, n: int = 1) -> int:
        """Count `n` lines of `shape` (same token count; `keys` its tokens' keys); returns what
        changed (`SUB|ALL|COARSE|EVIDENCE`).

        After `ALL`, `moves` holds the (old key, new key) of every pattern."""
        old_split = self.split
        flags = self._note(shape, keys)
        signature = self.signature(keys)
        if signature not in self.patterns and len(self.patterns) >= MAX_PATTERNS and self.signed:
            self.dropped.add(max(self.signed, key=lambda i: (len(self.keys[i] or ()), -i)))
            flags |= ALL
        resigned = self._resign() if flags & ALL else None
        if resigned is not None:
            signature = self.signature(keys)
        pattern = self.patterns.get(signature)
        if pattern is None:
            self.patterns[signature] = Pattern(shape, n)
            flags |= SUB | EVIDENCE
        else:
            if evidence(pattern.count + n) != evidence(pattern.count):
                flags |= EVIDENCE
            pattern.count += n
            merged = generalise((pattern.template, shape))
            if merged != pattern.template:
                pattern.template = merged
                flags |= SUB
        recount = flags & (ALL | COARSE | KEYS) or (flags & EVIDENCE and self.counted)
        split = self._split_positions() if recount else old_split
        if split != old_split or resigned is not None:
            if resigned is None:
                resigned = [(tuple([sig[j] for j in old_split]), sig) for sig in self.patterns]
            self.split = split
            self.moves = {(old, self.key(new)) for old, new in resigned}
            self._rebuild_subs()
            return flags | ALL
        if flags & SUB:
            key = self.key(signature)
            self.subs[key] = generalise(p.template for sig, p in self.patterns.items() if self.key(sig) == key)
        return flags

    def _rebuild_subs(self) -> None:
        """Every sub-template, re-derived from the patterns in the order they were first seen."""
        groups: dict[Template, list[Template]] = {}
        for sig, pattern in self.patterns.items():
            groups.setdefault(self.key(sig), []).append(pattern.template)
        self.subs = {k: generalise(g) for k, g in groups.items()}

    def refresh(self) -> None:
        """Derive what is not stored: signature and split positions, sub-templates (after a restore)."""
        self.signed = self._signed()
        self.split = self._split_positions()
        self._derive_match()
        self._rebuild_subs()

    def _note(self, shape: Template, line_keys: Template) -> int:
        """Record a line's values and keys: KEYS if a position has a new key, COARSE if what drain
        matches changed, ALL if a position left the signature."""
        flags = 0
        coarse = self.log_template_tokens
        if coarse != shape and any(c != WILDCARD and c != t for c, t in zip(coarse, shape, strict=True)):
            self.log_template_tokens = tuple(c if c == t else WILDCARD for c, t in zip(coarse, shape, strict=True))
            flags |= COARSE
        for i, keys in enumerate(self.keys):
            if keys is None:
                continue
            key = line_keys[i]
            if key not in keys:
                keys.add(key)
                flags |= KEYS
                if len(keys) > self.tuning.split_max and (len(keys) > SYMBOLS_MAX or not all(map(symbol, keys))):
                    self.keys[i] = None
                    flags |= ALL
        if flags:
            matched = (self.words, self.wilds)
            self._derive_match()
            if (self.words, self.wilds) != matched:
                flags |= COARSE
        return flags

    def _signed(self) -> tuple[int, ...]:
        return tuple(i for i, k in enumerate(self.keys) if k is not None and i not in self.dropped)

    def _resign(self) -> list[tuple[Template, Template]]:
        """Re-key the patterns after positions left the signature, merging those now equal;
        returns each old pattern's (old key, new signature)."""
        old_signed, self.signed = self.signed, self._signed()
        keep = [old_signed.index(i) for i in self.signed]
        merged: dict[Template, Pattern] = {}
        resigned = []
        for sig, pattern in self.patterns.items():
            new = tuple([sig[j] for j in keep])
            resigned.append((self.key(sig), new))
            have = merged.get(new)
            if have is None:
                merged[new] = Pattern(pattern.template, pattern.count)
            else:
                have.count += pattern.count
                have.template = generalise((have.template, pattern.template))
        self.patterns = merged
        return resigned

    def _split_positions(self) -> tuple[int, ...]:
        self.counted = False
        coarse = self.log_template_tokens
        last = len(coarse) - 1
        out = []
        for j, i in enumerate(self.signed):
            keys = self.keys[i]
            if keys is not None and len(keys) > 1 and splittable(
                keys, coarse[i - 1] if i else "", coarse[i + 1] if i < last else "", partial(self._counts, j)
            ):
                out.append(j)
        return tuple(out)

    def _counts(self, j: int) -> dict[str, int]:
        """The evidence for each value at signature index `j`: its patterns' weighed counts."""
        self.counted = True
        counts: dict[str, int] = {}
        for sig, pattern in self.patterns.items():
            counts[sig[j]] = counts.get(sig[j], 0) + evidence(pattern.count)
        return counts

    def reconsider(self) -> int:
        """Re-decide the split positions after a pattern's count crossed an evidence step;
        returns ALL (with `moves`) if they changed, else 0."""
        if not self.counted:
            return 0
        old_split, split = self.split, self._split_positions()
        if split == old_split:
            return 0
        self.moves = {(tuple([sig[j] for j in old_split]), tuple([sig[j] for j in split])) for sig in self.patterns}
        self.split = split
        self._rebuild_subs()
        return ALL

    def _derive_match(self) -> None:
        self.words = tuple(
            next(iter(k)) if k is not None and len(k) == 1 and WILDCARD not in k else None for k in self.keys
        )
        # Positions whose value is masked, or id-shaped (keyed `<*>`), are left out of the share.
        self.wilds = tuple(
            [
                WILDCARD if t == WILDCARD or (k is not None and WILDCARD in k) else None
                for t, k in zip(self.log_template_tokens, self.keys, strict=True)
            ]
        )
        self.nwild = self.wilds.count(WILDCARD)
