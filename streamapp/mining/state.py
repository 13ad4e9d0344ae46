"""The miner's state as plain JSON (no pickling): safe to load from storage nobody vouches for.

What is stored is what the future depends on: each unit's values per position and patterns in the
order they were first seen, and drain3's prefix tree as it is (its shape depends on insertion
order). Everything else (split positions, sub-templates, final templates, caches) is derived.
"""

from __future__ import annotations

import json
from typing import Any

from drain3.drain import Node

from streamapp.errors import StreamAppError
from streamapp.mining.tuning import Tuning
from streamapp.mining.units import Pattern, Unit

FORMAT = "streamapp-template-miner"
# 2: a unit keeps distinct values per position under `Tuning.split_max` (6, enum symbols up to
# `units.SYMBOLS_MAX`), and its split depends on its pattern counts. A version 1 state (values kept
# up to 8) is refused: the miner starts fresh, and as ids are content hashes, known templates keep
# their ids.
VERSION = 2
MAX_TREE_DEPTH = 16  # drain3's tree is a few levels deep; anything deeper is not ours


class InvalidState(StreamAppError):
    """The bytes are not a miner state this version can restore."""


def dump(counter: int, units: list[Unit], root: Node) -> bytes:
    """Serialise the miner's units and tree."""
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "counter": counter,
        "units": [
            {
                "id": u.cluster_id,
                "tokens": list(u.log_template_tokens),
                "keys": [None if k is None else sorted(k) for k in u.keys],
                "dropped": sorted(u.dropped),
                "patterns": [[list(sig), list(p.template), p.count] for sig, p in u.patterns.items()],
            }
            for u in units
        ],
        "tree": _node_out(root),
    }
    return json.dumps(doc, separators=(",", ":")).encode("utf-8")


def load(data: bytes, tuning: Tuning) -> tuple[int, list[Unit], Node]:
    """The counter, units and tree of a state made by `dump`; `InvalidState` otherwise."""
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise InvalidState("not a template miner state")
        if doc.get("version") != VERSION:
            raise InvalidState(f"unsupported state version {doc.get('version')!r}")
        units = [_unit_in(u, tuning) for u in _list(doc["units"])]
        root = _node_in(doc["tree"], depth=0)
        return _int(doc["counter"]), units, root
    except InvalidState:
        raise
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise InvalidState(f"malformed template miner state: {exc!r}") from exc


def _node_out(node: Node) -> dict[str, Any]:
    return {"c": node.cluster_ids, "k": {k: _node_out(v) for k, v in node.key_to_child_node.items()}}


def _node_in(obj: Any, depth: int) -> Node:
    if not isinstance(obj, dict) or depth > MAX_TREE_DEPTH:
        raise InvalidState("malformed tree node")
    node = Node()
    # Ids of clusters that no longer exist are kept: drain3 skips them, as it did before.
    node.cluster_ids = [_int(i) for i in _list(obj["c"])]
    children = obj["k"]
    if not isinstance(children, dict):
        raise InvalidState("malformed tree node")
    node.key_to_child_node = {_str(k): _node_in(v, depth + 1) for k, v in children.items()}
    return node


def _unit_in(obj: Any, tuning: Tuning) -> Unit:
    if not isinstance(obj, dict):
        raise InvalidState("malformed unit")
    tokens = _strings(obj["tokens"])
    unit = Unit(tokens, _int(obj["id"]), tuning)
    unit.keys = [None if k is None else set(_strings(k)) for k in _list(obj["keys"])]
    unit.dropped = {_int(i) for i in _list(obj["dropped"])}
    if len(unit.keys) != len(tokens) or not unit.dropped <= set(range(len(tokens))):
        raise InvalidState("unit positions disagree")
    width = sum(1 for i, k in enumerate(unit.keys) if k is not None and i not in unit.dropped)
    for item in _list(obj["patterns"]):
        sig, template, count = _list(item)
        sig, template = _strings(sig), _strings(template)
        if len(sig) != width or len(template) != len(tokens):
            raise InvalidState("pattern length differs from its unit")
        unit.patterns[sig] = Pattern(template, _int(count))
    unit.refresh()
    return unit


def _strings(x: Any) -> tuple[str, ...]:
    return tuple(_str(s) for s in _list(x))


def _list(x: Any) -> list[Any]:
    if not isinstance(x, list):
        raise InvalidState(f"expected a list, got {type(x).__name__}")
    return x


def _int(x: Any) -> int:
    if not isinstance(x, int) or isinstance(x, bool):
        raise InvalidState(f"expected an integer, got {type(x).__name__}")
    return x


def _str(x: Any) -> str:
    if not isinstance(x, str):
        raise InvalidState(f"expected a string, got {type(x).__name__}")
    return x
