"""The online template miner: drain3's prefix tree, refined as clusters grow, with stable ids.

Per line: mask the values (`masking`), find the drain cluster (a *unit*) by drain3's tree search,
count the line's pattern in it (`units`), and answer the final template of its sub-template
(`groups`). Only what changed is re-derived. The answer for a line depends only on the lines seen
so far, in order, so batch and streaming give the same templates, and a restored state goes on
exactly as the original would have.

Bounded: with `max_clusters`, a new unit past the bound drops the least recently used tenth of the
units (`evicted` counts them; their templates leave the groups they were in). A line of a dropped
unit later founds it again, and as ids are content hashes, its template keeps its id.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable
from operator import eq

from drain3.drain import Drain, Node

from streamapp.caches import RepeatCache
from streamapp.mining import state
from streamapp.mining.groups import Groups
from streamapp.mining.inputs import clean
from streamapp.mining.masking import Masker
from streamapp.mining.refine import EVIDENCE_CAP, Template, token_key
from streamapp.mining.results import MineResult, TemplateChange, TemplateInfo
from streamapp.mining.tuning import DEFAULT, Tuning
from streamapp.mining.units import ALL, COARSE, SUB, Unit

# The one configuration, for every log (the tuned parameters are in `tuning`).
DEPTH = 3  # drain3 tree depth 3: a line's candidates are all units of its token count (a first
# token can be a value as well as any other, so it does not pick the branch)
CACHE_SIZE = 100_000  # lines (and shapes) remembered with their unit, from their second sighting on

# Units changes remembered per token count for checking cached answers; past this many since an
# answer was cached, the line is learnt again (as cheap as checking that many units).
CHANGES_CHECKED = 32
CHANGES_KEPT = 1024


class _Seen:
    """A line's (or shape's) unit, signature, split key and pattern, cached with what makes it
    valid: the changes of units of its token count up to then, and how similar the line was to
    its unit."""

    __slots__ = ("generation", "key", "keys", "pattern", "signature", "similarity", "unit")

    def __init__(self, keys: Template, unit: Unit, signature: Template, key: Template, generation: int) -> None:
        self.keys = keys
        self.unit = unit
        self.signature = signature
        self.key = key
        self.pattern = unit.patterns[signature]
        self.generation = generation
        self.similarity = _similarity(unit, keys)


class _Changes:
    """Which units of one token count changed what tree search compares (or their split), in order;
    the generation is how many changes there were."""

    __slots__ = ("base", "ids")

    def __init__(self) -> None:
        self.base = 0  # changes forgotten (to bound memory)
        self.ids: list[int] = []

    @property
    def generation(self) -> int:
        return self.base + len(self.ids)

    def add(self, uid: int) -> None:
        self.ids.append(uid)
        if len(self.ids) > CHANGES_KEPT:
            drop = len(self.ids) // 2
            del self.ids[:drop]
            self.base += drop

    def since(self, generation: int) -> list[int] | None:
        """Units changed since `generation`, None if that is more than is remembered or checked."""
        start = generation - self.base
        if start < 0 or len(self.ids) - start > CHANGES_CHECKED:
            return None
        return self.ids[start:]


def _similarity(unit: Unit, keys: Template) -> float:
    """drain3's similarity, on keys: the share of the unit's words the line repeats, positions
    masked in both left out."""
    both = sum(map(eq, unit.wilds, keys))
    rest = len(keys) - both
    return sum(map(eq, unit.words, keys)) / rest if rest else 1.0


class _Tree(Drain):
    """drain3's tree, choosing among candidate units by the share of words a line repeats.

    Lines are compared by their tokens' keys (`token_key`), so `force=a` and `force=b` agree.
    Positions masked in both the template and the line are left out of the share: a template
    that is mostly values must still match its own lines.
    """

    def fast_match(self, cluster_ids, tokens, sim_th, include_params):  # type: ignore[no-untyped-def]
        # As drain3's: the most similar unit, ties to the one with more wildcards; `tokens` are
        # the line's keys. `include_params` is for drain3's own `match`, which is not used.
        best, best_sim, best_params = None, -1.0, -1
        units = self.id_to_cluster
        for cid in cluster_ids:
            unit = units.get(cid)
            if unit is None:
                continue
            sim = _similarity(unit, tokens)
            params = unit.nwild
            if sim > best_sim or (sim == best_sim and params > best_params):
                best, best_sim, best_params = unit, sim, params
        return best if best_sim >= sim_th else None


class TemplateMiner:
    """Mines templates from messages, one at a time or in batches; pure, no I/O."""

    def __init__(self, tuning: Tuning = DEFAULT, max_clusters: int | None = None) -> None:
        """`max_clusters`: units kept (None = all, for a finite input such as a file)."""
        if max_clusters is not None and max_clusters < 10:
            raise ValueError("max_clusters must be at least 10")
        self._tuning = tuning
        self.max_clusters = max_clusters
        self.evicted = 0  # units dropped at the bound, ever
        self._used: dict[int, int] = {}  # unit id -> when a line last reached it (a line count)
        self._tick = 0
        self._masker = Masker()
        self._tree = _Tree(depth=DEPTH, sim_th=tuning.sim_th)
        self._groups = Groups()
        # Lines and masked shapes seen, with their unit: valid while tree search would answer the
        # same (`_fresh`), so caching never changes an answer.
        self._lines: RepeatCache[str, _Seen] = RepeatCache(CACHE_SIZE)
        self._shapes: RepeatCache[Template, _Seen] = RepeatCache(CACHE_SIZE)
        self._changes: dict[int, _Changes] = {}

    def add(self, message: str) -> MineResult:
        """Mine one message; the answer is its template after this line was learnt."""
        seen = self._fresh(self._lines.get(message))
        if seen is None:
            text, reason = clean(message)
            if reason is not None:
                return MineResult(None, "", message, rejected=reason)
            shape = self._masker.tokens(text)
            seen = self._fresh(self._shapes.get(shape))
            if seen is None:
                return self._learn(message, shape)
            self._lines.put(message, seen)
        pattern = seen.pattern
        self._tick = tick = self._tick + 1
        self._used[seen.unit.cluster_id] = tick
        pattern.count = count = pattern.count + 1
        if count <= EVIDENCE_CAP and not count & (count - 1):  # a power of two: an evidence step
            return self._reconsider(seen.unit, seen.signature, message)
        return self._answer(seen.unit, seen.key, message)

    def add_many(self, messages: Iterable[str]) -> list[MineResult]:
        """Mine a batch in order (the same answers as `add` one by one)."""
        add = self.add
        return [add(m) for m in messages]

    def match(self, message: str) -> MineResult | None:
        """The current template of a message, learning nothing; None if it has none yet."""
        seen = self._fresh(self._lines.get(message))
        if seen is None:
            text, reason = clean(message)
            if reason is not None:
                return MineResult(None, "", message, rejected=reason)
            shape = self._masker.tokens(text)
            seen = self._fresh(self._shapes.get(shape))
            if seen is None:
                keys = tuple(map(token_key, shape))
                unit = self._home(keys)
                key = unit.key(unit.signature(keys)) if unit is not None else ()
                if unit is None or self._groups.of((unit.cluster_id, key)) is None:
                    return None
                return self._answer(unit, key, message)
        return self._answer(seen.unit, seen.key, message)

    def templates(self) -> list[TemplateInfo]:
        """Every final template with its line count, most frequent first."""
        counts: Counter[str] = Counter()
        texts = {}
        for unit in self._tree.id_to_cluster.values():
            for signature, pattern in unit.patterns.items():
                g = self._groups.of((unit.cluster_id, unit.key(signature)))
                if g is not None:
                    counts[g.tid] += pattern.count
                    texts[g.tid] = g.text
        return [TemplateInfo(tid, texts[tid], n) for tid, n in counts.most_common()]

    def to_state(self) -> bytes:
        """Everything needed to go on exactly where this miner is (own JSON, no pickling)."""
        units = list(self._tree.id_to_cluster.values())
        return state.dump(self._tree.clusters_counter, units, self._tree.root_node)

    @classmethod
    def from_state(cls, data: bytes, tuning: Tuning = DEFAULT, max_clusters: int | None = None) -> TemplateMiner:
        """A miner restored from `to_state`; raises `InvalidState` for anything else."""
        counter, units, root = state.load(data, tuning)
        miner = cls(tuning, max_clusters)
        tree = miner._tree
        tree.clusters_counter = counter
        tree.root_node = root
        for unit in units:
            tree.id_to_cluster[unit.cluster_id] = unit
            miner._groups.place(unit.cluster_id, unit.subs)
        return miner

    def _answer(self, unit: Unit, key: Template, message: str, changes: tuple[TemplateChange, ...] = ()) -> MineResult:
        g = self._groups.of((unit.cluster_id, key))
        assert g is not None  # every sub-template of a unit is placed
        return MineResult(g.tid, g.text, message, changes)

    def _learn(self, message: str, shape: Template) -> MineResult:
        """A line whose pattern is new or whose cluster may have changed: the full path."""
        tree = self._tree
        keys = tuple(map(token_key, shape))
        unit = tree.tree_search(tree.root_node, keys, self._tuning.sim_th, False)
        evicted: list[tuple[str, str]] = []
        if unit is None:
            unit = self._create(shape)
            if self.max_clusters is not None and len(tree.id_to_cluster) > self.max_clusters:
                evicted = self._evict(unit)
        self._tick += 1
        self._used[unit.cluster_id] = self._tick
        flags = unit.absorb(shape, keys)
        signature = unit.signature(keys)
        key = unit.key(signature)
        changes: tuple[TemplateChange, ...] = tuple(TemplateChange(a, b) for a, b in sorted(set(evicted)))
        if flags:
            changes += self._replace(unit, flags, key, len(shape))
        seen = _Seen(keys, unit, signature, key, self._log(len(shape)).generation)
        self._shapes.put(shape, seen)
        self._lines.put(message, seen)
        return self._answer(unit, key, message, changes)

    def _reconsider(self, unit: Unit, signature: Template, message: str) -> MineResult:
        """A line whose pattern's count crossed an evidence step: the split may change."""
        old_key = unit.key(signature)
        flags = unit.reconsider()
        changes = self._replace(unit, flags, old_key, len(unit.log_template_tokens)) if flags else ()
        return self._answer(unit, unit.key(signature), message, changes)

    def _create(self, shape: Template) -> Unit:
        tree = self._tree
        tree.clusters_counter += 1
        unit = Unit(shape, tree.clusters_counter, self._tuning)
        tree.id_to_cluster[unit.cluster_id] = unit
        tree.add_seq_to_prefix_tree(tree.root_node, unit)
        self._log(len(shape)).add(unit.cluster_id)
        return unit

    def _replace(self, unit: Unit, flags: int, key: Template, length: int) -> tuple[TemplateChange, ...]:
        """Place a unit's re-derived sub-templates; report which final templates changed."""
        groups = self._groups
        uid = unit.cluster_id
        if flags & (ALL | COARSE):
            self._log(length).add(uid)
        moves = unit.moves if flags & ALL else {(key, key)}
        before = {}
        for old, _ in moves:
            g = groups.of((uid, old))
            if g is not None:
                before[old] = g.tid
        if flags & ALL:
            pairs = groups.place(uid, unit.subs)
        elif flags & SUB:
            pairs = groups.place_one((uid, key), unit.subs[key])
        else:
            pairs = []
        for old, new in moves:
            g = groups.of((uid, new))
            if old in before and g is not None and g.tid != before[old]:
                pairs.append((before[old], g.tid))
        return tuple(TemplateChange(a, b) for a, b in sorted(set(pairs)))

    def _home(self, keys: Template) -> Unit | None:
        """The unit holding the pattern of a line with these keys, else the one tree search would pick."""
        tree = self._tree
        unit = tree.tree_search(tree.root_node, keys, self._tuning.sim_th, False)
        if unit is not None and unit.signature(keys) in unit.patterns:
            return unit
        for uid in tree.get_clusters_ids_for_seq_len(len(keys)):
            other = tree.id_to_cluster.get(uid)
            if other is not None and other.signature(keys) in other.patterns:
                return other
        return unit

    def _evict(self, keep: Unit) -> list[tuple[str, str]]:
        """Drop the least recently used units down to nine tenths of the bound (one pass per tenth
        of it, not one per new unit); returns the final templates whose text changed."""
        units = self._tree.id_to_cluster
        used = self._used
        n = len(units) - self.max_clusters * 9 // 10  # type: ignore[operator]  # only called with a bound
        victims = heapq.nsmallest(
            n, (u for u in units.values() if u is not keep), key=lambda u: used.get(u.cluster_id, 0)
        )
        pairs = []
        for unit in victims:
            del units[unit.cluster_id]
            used.pop(unit.cluster_id, None)
            pairs += self._groups.place(unit.cluster_id, {})
            self._log(len(unit.log_template_tokens)).add(unit.cluster_id)  # its cached lines are stale
        _prune(self._tree.root_node, units)
        self.evicted += len(victims)
        return pairs

    def _log(self, length: int) -> _Changes:
        log = self._changes.get(length)
        if log is None:
            log = self._changes[length] = _Changes()
        return log

    def _fresh(self, seen: _Seen | None) -> _Seen | None:
        """`seen` if tree search would still answer its unit, and the unit did not change since.

        Only the units that changed since may answer otherwise: each must not match the line
        better than its unit does, nor as well (a tie is not worth deciding here)."""
        if seen is None:
            return None
        log = self._changes[len(seen.keys)]
        generation = log.generation
        if seen.generation == generation:
            return seen
        since = log.since(seen.generation)
        unit = seen.unit
        if since is None or unit.cluster_id in since or seen.similarity < self._tuning.sim_th:
            return None
        units = self._tree.id_to_cluster
        for uid in set(since):
            other = units.get(uid)
            if other is None:  # dropped at the bound: it answers nothing any more
                continue
            sim = _similarity(other, seen.keys)
            if sim > seen.similarity or (sim == seen.similarity and other.nwild >= unit.nwild):
                return None
        seen.generation = generation
        return seen


def _prune(node: Node, units: dict[int, Unit]) -> None:
    """Forget the ids of dropped units in the prefix tree (drain3 only tidies a leaf it adds to)."""
    node.cluster_ids = [cid for cid in node.cluster_ids if cid in units]
    for child in node.key_to_child_node.values():
        _prune(child, units)
