"""The held-out detection corpus (tests/data/heldout) is well formed and is what its generator writes.

`bench/detect_heldout.py` scores the classifier on it once; a label off by one line, a word outside
the taxonomy or a label breaking the alert rule would skew that figure silently, so they fail here.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from bench.heldout_corpus import KINDS, LABEL_HEADER, SYSTEMS, load_kinds, write
from streamapp.parsing import LineFormat
from streamapp.taxonomy import FailureType, Severity

CORPUS = Path(__file__).resolve().parent.parent / "data" / "heldout"
LOGHUB_SYSTEMS = {"android", "hdfs", "hpc", "hadoop", "healthapp", "linux", "mac", "openstack", "proxifier", "spark",
                  "windows", "zookeeper"}


def labels(system: str) -> list[dict[str, str]]:
    with (CORPUS / f"{system}.labels.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == LABEL_HEADER, f"{system}: header {reader.fieldnames}"
        return list(reader)


def test_corpus_covers_enough_systems_outside_loghub() -> None:
    formats = json.loads((CORPUS / "formats.json").read_text(encoding="utf-8"))
    assert sorted(formats) == sorted(SYSTEMS)
    assert len(formats) >= 6
    assert not {name.lower() for name in formats} & LOGHUB_SYSTEMS
    quiet = [s for s in formats if not any(row["alert"] == "1" for row in labels(s))]
    assert quiet, "no incident-free system"
    assert len(quiet) < len(formats), "no system with an incident"


@pytest.mark.parametrize("system", sorted(SYSTEMS))
def test_one_consistent_label_per_line(system: str) -> None:
    lines = (CORPUS / f"{system}.log").read_text(encoding="utf-8").splitlines()
    rows = labels(system)
    assert 300 <= len(lines) <= 800, f"{system}: {len(lines)} lines"
    assert [row["line"] for row in rows] == [str(i) for i in range(1, len(lines) + 1)], f"{system}: not one row a line"
    types, severities = {t.value for t in FailureType}, {s.value for s in Severity}
    for row in rows:
        where = f"{system}.labels.csv line {row['line']}"
        assert row["failure_type"] in types and row["severity"] in severities, where
        assert row["note"].strip(), where
        alert = row["failure_type"] != FailureType.BENIGN and Severity(row["severity"]).rank >= Severity.ERROR.rank
        assert row["alert"] == str(int(alert)), f"{where}: breaks the alert rule"
    LineFormat.from_spec(SYSTEMS[system][1])  # the declared format compiles


def test_files_are_what_the_generator_writes(tmp_path: Path) -> None:
    write(tmp_path)
    for path in sorted(CORPUS.glob("*.log")) + sorted(CORPUS.glob("*.csv")) + [CORPUS / "formats.json"]:
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), f"{path.name} differs from the generator's"


def test_every_declared_kind_labels_some_line() -> None:
    for system, kinds in KINDS.items():
        used = {(row["failure_type"], row["severity"], row["note"]) for row in labels(system)}
        declared = {(k.failure_type.value, k.severity.value, k.note) for k in kinds.values()}
        assert declared == used, f"{system}: heldout_kinds.yml and the labels disagree"


@pytest.mark.parametrize(("entry", "says"), [
    ("{failure_type: no_such_type, severity: info, note: x}", "nginx.scan: .*no_such_type"),
    ("{failure_type: benign, severity: info}", "needs exactly"),
    ("{failure_type: benign, severity: info, note: ' '}", "note is empty"),
])
def test_a_bad_kinds_file_is_an_error_naming_the_entry(tmp_path: Path, entry: str, says: str) -> None:
    path = tmp_path / "kinds.yml"
    path.write_text(f"nginx:\n  scan: {entry}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=says):
        load_kinds(path)
