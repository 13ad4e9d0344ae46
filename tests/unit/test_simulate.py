"""The simulator's message tables (`streamapp/simulate.yml`) are well formed, a bad file is an error
naming the entry, and a scenario is deterministic for its seed with each incident on its own host."""

from __future__ import annotations

import random
import re

import pytest

from streamapp.errors import ConfigError
from streamapp.simulate import Scenario, SimLine, _fill, parse_tables, shipped_tables
from streamapp.taxonomy import FailureType

GOOD = """
noise:
  linux: [{component: CRON, pid: true, message: "session opened for user {user}"}]
  macos: [{component: kernel, pid: 0, message: "took {n} us"}]
  windows: [{component: CBS, message: "Session {n} initialized"}]
incidents:
  hardware_disk: [{component: kernel, pid: false, message: "ata{a}.00: failed command: READ DMA EXT"}]
"""


def test_shipped_tables_are_well_formed() -> None:
    tables = shipped_tables()
    assert tables.linux and tables.macos and tables.windows
    assert len(tables.incidents) >= 8
    assert FailureType.BENIGN not in tables.incidents
    rnd = random.Random(1)
    everything = [*tables.linux, *tables.macos, *tables.windows, *(m for ms in tables.incidents.values() for m in ms)]
    for m in everything:
        assert m.component and not (m.has_pid and m.pid is not None), m
        assert not re.search(r"[{}]", _fill(m.text, rnd)), f"{m.text!r} leaves a placeholder"
    assert all(m.pid is None for m in tables.linux)  # Linux noise draws its pids


def test_parse_reads_each_kind_of_pid() -> None:
    tables = parse_tables(GOOD)
    assert (tables.linux[0].has_pid, tables.linux[0].pid) == (True, None)
    assert (tables.macos[0].has_pid, tables.macos[0].pid) == (False, 0)
    assert (tables.windows[0].has_pid, tables.windows[0].pid) == (False, None)
    assert list(tables.incidents) == [FailureType.HARDWARE_DISK]


@pytest.mark.parametrize(("old", "new", "says"), [
    ("hardware_disk:", "hardware_disco:", "'hardware_disco' is not a failure type"),
    ("{user}", "{uid}", r"noise.linux\[0\]: message fills \['uid'\]"),
    ("took {n} us", "took {n us", r"noise.macos\[0\]: message:"),
    ("pid: 0", "pid: -1", r"noise.macos\[0\]: pid is true, false or a fixed pid"),
    ("component: CBS, ", "", r"noise.windows\[0\]: needs a component"),
    ("  windows:", "  win:", "noise: expected exactly the keys linux, macos, windows"),
    ("incidents:", "incidents: [", "not valid YAML"),
])
def test_a_bad_file_is_an_error_naming_the_entry(old: str, new: str, says: str) -> None:
    assert old in GOOD
    with pytest.raises(ConfigError, match=says):
        parse_tables(GOOD.replace(old, new, 1))


def test_a_scenario_is_deterministic_for_its_seed() -> None:
    def run(seed: int) -> list[SimLine]:
        return list(Scenario(duration=20, rate=20, incidents=4, seed=seed).lines())

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_incident_lines_come_from_their_host_and_failure_type() -> None:
    scenario = Scenario(duration=30, rate=10, incidents=6, seed=5)
    tables = shipped_tables()
    by_id = {inc.id: inc for inc in scenario.incidents}
    seen = set()
    for x in scenario.lines():
        if not x.incident:
            continue
        inc = by_id[x.incident]
        seen.add(inc.id)
        assert x.source == f"sim:linux:{inc.host}" and f" {inc.host} " in x.line
        assert any(f" {m.component}" in x.line for m in tables.incidents[inc.failure_type]), x.line
    assert seen == set(by_id)
