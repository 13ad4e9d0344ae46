"""The hand-written alert labels of the Loghub-2k systems (tests/data/loghub_labels) are well formed.

Each file labels one system template by template, with optional per-line overrides; the detection
bench trusts them, so a typo, a template left out or a stale LineId must fail here, not skew a score.
The lines themselves are read in place from the shared data (research licence: never copied).
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from streamapp.taxonomy import FailureType, Severity

LABELS_DIR = Path(__file__).resolve().parent.parent / "data" / "loghub_labels"
LABEL_FILES = sorted(LABELS_DIR.glob("*.csv"))
HEADER = ["kind", "id", "alert", "failure_type", "severity", "note"]
ALERT_SEVERITIES = {Severity.ERROR.value, Severity.CRITICAL.value}


def read_labels(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == HEADER, f"{path.name}: header {reader.fieldnames}"
        return list(reader)


def read_column(path: Path, column: str) -> list[str]:
    with path.open(encoding="utf-8", newline="") as f:
        return [row[column] for row in csv.DictReader(f)]


def test_label_files_exist() -> None:
    assert LABEL_FILES, f"no label files in {LABELS_DIR}"


@pytest.mark.parametrize("path", LABEL_FILES, ids=lambda p: p.stem)
def test_rows_are_well_formed(path: Path) -> None:
    rows = read_labels(path)
    failure_types = {t.value for t in FailureType}
    severities = {s.value for s in Severity}
    keys = Counter((row["kind"], row["id"]) for row in rows)
    assert not [k for k, n in keys.items() if n > 1], f"{path.name}: duplicate rows"
    for n, row in enumerate(rows, start=2):
        where = f"{path.name}:{n}"
        assert row["kind"] in ("template", "line"), where
        if row["kind"] == "line":
            assert row["id"].isdigit() and int(row["id"]) >= 1, where
        else:
            assert row["id"], where
        assert row["alert"] in ("0", "1"), where
        assert row["failure_type"] in failure_types, where
        assert row["severity"] in severities, where
        assert row["note"].strip(), f"{where}: empty note"
        expected = row["failure_type"] != FailureType.BENIGN and row["severity"] in ALERT_SEVERITIES
        assert row["alert"] == str(int(expected)), f"{where}: alert breaks the consistency rule"


@pytest.mark.parametrize("path", LABEL_FILES, ids=lambda p: p.stem)
def test_labels_cover_the_system(path: Path, loghub_dir: Path) -> None:
    system = path.stem
    base = loghub_dir / system / f"{system}_2k.log"
    assert base.parent.is_dir(), f"{path.name} names no Loghub system"
    rows = read_labels(path)
    labelled = Counter(row["id"] for row in rows if row["kind"] == "template")
    structured = base.with_name(base.name + "_structured.csv")
    # A line is looked up by the EventId of the structured file, which may name a template that the
    # templates file lists under another id (same text): those ids need a label of their own too.
    event_ids = set(read_column(base.with_name(base.name + "_templates.csv"), "EventId"))
    event_ids |= set(read_column(structured, "EventId"))
    assert {e: labelled[e] for e in event_ids if labelled[e] != 1} == {}, "templates not labelled exactly once"
    assert set(labelled) <= event_ids, f"unknown templates {sorted(set(labelled) - event_ids)}"
    line_ids = set(read_column(structured, "LineId"))
    overrides = {row["id"] for row in rows if row["kind"] == "line"}
    assert overrides <= line_ids, f"unknown LineIds {sorted(overrides - line_ids)}"
