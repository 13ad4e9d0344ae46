"""Template ids are content hashes: equal across processes, restarts and line orders."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

from streamapp.mining import template_id
from tests.unit.test_accuracy import loghub_messages

# Mines the lines of a JSON file in the given order; prints each line's final (template, id).
_WORKER = """
import json, sys
from streamapp.mining import TemplateMiner
lines, order = json.load(open(sys.argv[1]))
miner = TemplateMiner()
miner.add_many([lines[i] for i in order])
print(json.dumps([(r.template, r.template_id) for r in map(miner.match, lines)]))
"""


def test_id_is_a_hash_of_the_normalised_text() -> None:
    assert template_id("a <*>  b") == template_id(" a <*> b ") != template_id("a <*> c")
    assert len(template_id("x")) == 16


def _mine_in_a_process(path, seed: int) -> list[tuple[str, str]]:
    env = {**os.environ, "PYTHONHASHSEED": str(seed)}
    out = subprocess.run(
        [sys.executable, "-c", _WORKER, str(path)], capture_output=True, text=True, env=env, check=True
    )
    return [tuple(x) for x in json.loads(out.stdout)]


def test_two_processes_in_different_orders_agree_on_ids(loghub_dir, tmp_path) -> None:
    lines = loghub_messages(loghub_dir, "Linux") + loghub_messages(loghub_dir, "Zookeeper")
    shuffled = list(range(len(lines)))
    random.Random(7).shuffle(shuffled)
    forward, backward = tmp_path / "forward.json", tmp_path / "shuffled.json"
    forward.write_text(json.dumps([lines, list(range(len(lines)))]))
    backward.write_text(json.dumps([lines, shuffled]))

    a = _mine_in_a_process(forward, seed=1)
    b = _mine_in_a_process(backward, seed=2)

    same_template = [(x, y) for x, y in zip(a, b, strict=True) if x[0] == y[0]]
    assert len(same_template) > 0.9 * len(lines)  # the orders mostly agree on templates...
    assert all(x[1] == y[1] == template_id(x[0]) for x, y in same_template)  # ...and then on ids
