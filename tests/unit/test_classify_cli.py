"""`streamapp classify`: the real entry point on small files written here, no services."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

HEADER = ["LineId", "TemplateId", "FailureType", "Severity", "Alert"]

DISK = [
    "Mar  3 04:10:11 db7 kernel: end_request: I/O error, dev sdb, sector 81231",
    "Mar  3 04:10:12 db7 kernel: end_request: I/O error, dev sdb, sector 81239",
    "Mar  3 04:10:14 db7 kernel: end_request: I/O error, dev sdc, sector 1024",
    "Mar  3 04:10:15 db7 kernel: Buffer I/O error on device sdb1, logical block 10153",
]
OOM = [
    "Mar  3 04:20:01 db7 kernel: Out of memory: Killed process 3121 (postgres) total-vm:912340kB",
    "Mar  3 04:21:09 db7 kernel: Out of memory: Killed process 3877 (postgres) total-vm:935112kB",
]
CRON = [
    "Mar  3 04:17:01 db7 CRON[4410]: (root) CMD (cd / && run-parts --report /etc/cron.hourly)",
    "Mar  3 05:17:01 db7 CRON[4502]: (root) CMD (cd / && run-parts --report /etc/cron.hourly)",
    "Mar  3 06:17:01 db7 CRON[4633]: (root) CMD (cd / && run-parts --report /etc/cron.hourly)",
]


def classify(tmp_path: Path, lines: list[str], fmt: str) -> tuple[list[dict[str, str]], subprocess.CompletedProcess]:
    log, out = tmp_path / "input.log", tmp_path / "verdicts.csv"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "streamapp.cli", "classify", "--format", fmt, str(log), "-o", str(out)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    with out.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == HEADER
        return list(reader), proc


def test_one_row_per_line_disk_errors_alert_and_cron_does_not(tmp_path: Path) -> None:
    # interleaved, as a real log is
    lines = [DISK[0], CRON[0], OOM[0], DISK[1], CRON[1], DISK[2], OOM[1], CRON[2], DISK[3]]
    rows, proc = classify(tmp_path, lines, "linux")
    assert [r["LineId"] for r in rows] == [str(i) for i in range(1, len(lines) + 1)]
    by_line = dict(zip(lines, rows, strict=True))
    for line in DISK:
        assert by_line[line]["FailureType"] == "hardware_disk" and by_line[line]["Alert"] == "true", by_line[line]
        assert by_line[line]["Severity"] in ("error", "critical")
    for line in OOM:
        assert by_line[line]["FailureType"] == "os_oom" and by_line[line]["Alert"] == "true", by_line[line]
    for line in CRON:
        assert by_line[line]["Alert"] == "false" and by_line[line]["FailureType"] == "benign", by_line[line]
    assert all(r["TemplateId"] for r in rows)
    assert len({by_line[line]["TemplateId"] for line in CRON}) == 1
    assert "9 lines" in proc.stderr and "6 alert lines" in proc.stderr
    # the per-severity summary: lines and alert lines per verdict severity, adding up
    table = {m[0]: (int(m[1]), int(m[2])) for m in re.findall(r"^(\w+)\s+(\d+)\s+(\d+)$", proc.stderr, re.M)}
    assert set(table) == {"critical", "error", "warning", "info", "debug", "total"}
    assert table["total"] == (9, 6) and table["info"] == (3, 0)
    assert sum(table[s][0] for s in ("critical", "error", "warning", "info", "debug")) == 9


def test_each_template_is_classified_once_per_level_and_the_level_counts(tmp_path: Path) -> None:
    """The same template at `warning` and at `error`: two verdicts for six lines, the error lines alert."""
    def line(level: str, ms: int) -> str:
        return json.dumps({"level": level, "msg": f"slow query took {ms} ms on orders"})

    lines = [line("warning", 900 + i) for i in range(3)] + [line("error", 5000 + i) for i in range(3)]
    rows, proc = classify(tmp_path, lines, "json")
    assert len({r["TemplateId"] for r in rows}) == 1
    assert [r["Alert"] for r in rows] == ["false"] * 3 + ["true"] * 3
    assert {r["FailureType"] for r in rows} == {"performance_degradation"}
    assert [r["Severity"] for r in rows] == ["warning"] * 3 + ["error"] * 3
    assert "2 verdicts computed" in proc.stderr


def test_an_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    log = tmp_path / "input.log"
    log.write_text("x\n")
    proc = subprocess.run(
        [sys.executable, "-m", "streamapp.cli", "classify", "--format", "nonsense", str(log), "-o", "out.csv"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert proc.returncode == 2 and "unknown format" in proc.stderr
    assert not (tmp_path / "out.csv").exists()


def test_a_missing_reading_masked_by_the_miner_still_counts(tmp_path: Path) -> None:
    """One template for every fan line; only the lines whose reading could not be taken alert."""
    speeds = ["3552 3534 3375 3600", "3551 3530 3380 3610", "3549 **** 3377 3598", "3550 3533 3379 3605"]
    lines = [json.dumps({"component": "switch_module", "msg": f"Fan speeds ( {s} )"}) for s in speeds]
    rows, _ = classify(tmp_path, lines, "json")
    assert len({r["TemplateId"] for r in rows}) == 1
    assert [r["Alert"] for r in rows] == ["false", "false", "true", "false"]
    assert rows[2]["FailureType"] == "hardware_fan"


def test_a_dependency_unreachable_at_every_attempt_alerts_once_it_persists(tmp_path: Path) -> None:
    """A warning per failed attempt; the file shows the attempts go on, which is an outage."""
    def attempt(n: int) -> str:
        return json.dumps({"level": "warn", "msg": f"Unable to open channel to peer 10.0.0.{n % 5} at port 3888"})

    few, _ = classify(tmp_path, [attempt(n) for n in range(5)], "json")
    assert {r["Alert"] for r in few} == {"false"} and {r["Severity"] for r in few} == {"warning"}
    many, _ = classify(tmp_path, [attempt(n) for n in range(200)], "json")
    assert {r["Alert"] for r in many} == {"true"} and {r["FailureType"] for r in many} == {"app_dependency"}
