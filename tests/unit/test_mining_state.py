"""The miner's state: a restart goes on exactly where it left off, and foreign bytes are refused."""

from __future__ import annotations

import json

import pytest

from streamapp.mining import InvalidState, TemplateMiner
from tests.unit.test_accuracy import SYSTEMS, loghub_messages


def _final(miner: TemplateMiner, lines: list[str]) -> list[tuple[str, str]]:
    results = [miner.match(line) for line in lines]
    return [(r.template_id, r.template) if r else ("", "") for r in results]


@pytest.mark.parametrize("system", SYSTEMS)
def test_restart_from_state_equals_one_run(loghub_dir, system) -> None:
    lines = loghub_messages(loghub_dir, system)
    half = len(lines) // 2
    single = TemplateMiner()
    online = single.add_many(lines)

    first = TemplateMiner()
    first.add_many(lines[:half])
    restored = TemplateMiner.from_state(first.to_state())
    assert restored.to_state() == first.to_state()
    resumed = restored.add_many(lines[half:])

    assert [r.template_id for r in resumed] == [r.template_id for r in online[half:]]
    assert [r.changes for r in resumed] == [r.changes for r in online[half:]]
    assert _final(restored, lines) == _final(single, lines)
    assert restored.templates() == single.templates()


def test_state_is_plain_json() -> None:
    miner = TemplateMiner()
    miner.add_many(["worker 1 started", "worker 2 started", "queue full"])
    doc = json.loads(miner.to_state())
    assert doc["format"] == "streamapp-template-miner" and len(doc["units"]) == 2


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x80\x81 not json",
        b"[]",
        b'{"format": "other"}',
        b'{"format": "streamapp-template-miner", "version": 99}',
        # made by the miner before values were kept under the tuned bound: refused, not misread
        b'{"format": "streamapp-template-miner", "version": 1, "counter": 0, "units": [], "tree": {"c": [], "k": {}}}',
        b'{"format": "streamapp-template-miner", "version": 2, "counter": 1, "units": '
        b'[{"py/object": "os.system", "py/reduce": ["touch /tmp/pwned"]}], "tree": {"c": [], "k": {}}}',
        b'{"format": "streamapp-template-miner", "version": 2, "counter": "1", "units": [], "tree": {}}',
        b'{"format": "streamapp-template-miner", "version": 2, "counter": 1, "units": '
        b'[{"id": 1, "size": 1, "values": [["a"]], "patterns": [[["a", "b"], 1]]}], "tree": {"c": [], "k": {}}}',
    ],
)
def test_foreign_bytes_are_refused(data) -> None:
    with pytest.raises(InvalidState):
        TemplateMiner.from_state(data)
