"""The offline classifier on real public log formats (tests/data/labelled_lines.csv), plus its contract:
deterministic, cites only ids it was given, keeps benign noise quiet, obeys close operator labels, and
answers garbage with a valid benign verdict.

The labelled set has three parts, written in this order: `dev` (used while building the keyword model),
`holdout` (written after the first version was frozen; that version scored macro-F1 0.869 on it, and its
errors then guided generic fixes, so it is no longer a clean hold-out) and `holdout2` (written after the
current version was frozen, never used to tune it: the honest estimate). Every part's score is printed
(run with `-s`); the gates are macro-F1 >= 0.8 overall and on each held-out part.
"""

from __future__ import annotations

import csv
import itertools
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest

from streamapp.classify import LineVerdict, Neighbour, OfflineClassifier
from streamapp.classify.features import spoken
from streamapp.mining import TemplateMiner
from streamapp.records import ClusterCandidate, IssueCandidate
from streamapp.rules import RuleSet
from streamapp.taxonomy import FailureType, Severity
from streamapp.verdicts import Verdict, parse_verdict

DATA = Path(__file__).resolve().parent.parent / "data"
LABELLED = DATA / "labelled_lines.csv"
LOGHUB_REFS = DATA / "labelled_loghub.csv"
MIN_MACRO_F1 = 0.8
BENIGN = str(FailureType.BENIGN)
SPLITS = ("dev", "holdout", "holdout2")


def _rows() -> list[dict[str, str]]:
    with LABELLED.open(newline="") as f:
        return list(csv.DictReader(f))


ROWS = _rows()


@pytest.fixture(scope="module")
def classifier() -> OfflineClassifier:
    return OfflineClassifier(RuleSet.load())


# ------------------------------------------------------------------------------------------ helpers
def issue_of(lines: Sequence[str], *, host: str = "node-17", component: str = "app", first_id: int = 1_700_000_000_000
             ) -> IssueCandidate:
    """An issue candidate as the aggregator builds it, with templates from the real miner."""
    miner = TemplateMiner()
    mined = [miner.add(line) for line in lines]
    logs = [
        {"id": f"{first_id + i}-0", "templated": m.template, "raw": line, "component": component, "pid": "",
         "time": float(i), "template_id": m.template_id or "", "severity": "info", "source": "file:test",
         "read": spoken(m.template, m.parameters)}
        for i, (line, m) in enumerate(zip(lines, mined, strict=True))
    ]
    counts = Counter(m.template_id for m in mined if m.template_id)
    ranked = [tid for tid, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    texts = {m.template_id: m.template for m in mined}
    return IssueCandidate(
        id=f"i-{first_id}", os="linux", issue_key=f"linux|{component}|nopid",
        templated_summary=" \n".join(texts[t] for t in ranked), logs=logs, host=host, component=component,
        line_count=len(lines), template_ids=ranked,
    )


def multi_line_issues() -> list[tuple[IssueCandidate, str]]:
    """Issues built from the set: per failure type, its lines of one part mixed into routine lines
    (the type must win), routine-only issues (benign must win), and a link flap (down, then up)."""
    benign = itertools.cycle([r["line"] for r in ROWS if r["failure_type"] == BENIGN])
    out = []
    parts = sorted({(r["failure_type"], r["split"]) for r in ROWS if r["failure_type"] != BENIGN})
    for n, (label, split) in enumerate(parts):
        failing = [r["line"] for r in ROWS if r["failure_type"] == label and r["split"] == split][:3]
        lines = [next(benign), failing[0], next(benign), *failing[1:], next(benign), next(benign)]
        out.append((issue_of(lines, first_id=1_700_000_000_000 + 100 * n), label))
    for n in range(3):
        out.append((issue_of([next(benign) for _ in range(6)], first_id=1_700_000_100_000 + 100 * n), BENIGN))
    down = next(r["line"] for r in ROWS if "changed state to down" in r["line"])
    up = next(r["line"] for r in ROWS if "changed state to up" in r["line"])
    out.append((issue_of([down, up, down, up], component="switch"), str(FailureType.NETWORK_LINK)))
    return out


def report(title: str, truth: list[str], predicted: list[str]) -> float:
    """Print per-class precision/recall/F1 and the confusion pairs; return macro-F1 over the true classes."""
    pairs = Counter(zip(truth, predicted, strict=True))
    f1s = {}
    print(f"\n== {title}: {len(truth)} items, {len(set(truth))} classes")
    print(f"{'class':<26}{'prec':>7}{'recall':>8}{'f1':>7}{'n':>5}")
    for label in sorted(set(truth) | set(predicted)):
        hit = pairs[(label, label)]
        said, real = predicted.count(label), truth.count(label)
        precision, recall = hit / said if said else 0.0, hit / real if real else 0.0
        f1 = 2 * precision * recall / (precision + recall) if hit else 0.0
        if real:
            f1s[label] = f1
        print(f"{label:<26}{precision:>7.3f}{recall:>8.3f}{f1:>7.3f}{real:>5}")
    for (t, q), n in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0])):
        if t != q:
            print(f"  confused: {t} -> {q} x{n}")
    macro = sum(f1s.values()) / len(f1s) if f1s else 0.0
    print(f"macro-F1 {macro:.3f}")
    return macro


# ------------------------------------------------------------------------------------- the data set
def test_labelled_set_is_big_varied_and_sourced() -> None:
    labels = Counter(r["failure_type"] for r in ROWS)
    assert len(ROWS) >= 150
    assert len([ft for ft in labels if ft != BENIGN]) >= 12 and labels[BENIGN] >= 20
    assert set(labels) <= {str(ft) for ft in FailureType}
    assert {r["split"] for r in ROWS} == set(SPLITS)
    assert len({r["line"] for r in ROWS}) == len(ROWS), "duplicate lines"
    for r in ROWS:
        assert r["source"].strip(), r["line"]
        assert r["failure_type"] not in r["line"].lower(), "a line must not name its own label"


def test_macro_f1_on_labelled_lines_and_issues(classifier: OfflineClassifier) -> None:
    truth, predicted, by_split = [], [], {}
    for split in SPLITS:
        rows = [r for r in ROWS if r["split"] == split]
        got = [str(classifier.classify_line(r["line"]).failure_type) for r in rows]
        want = [r["failure_type"] for r in rows]
        by_split[split] = report(f"single lines, {split}", want, got)
        truth += want
        predicted += got
    issues = multi_line_issues()
    got = [str(classifier.classify_issue(issue).failure_type) for issue, _ in issues]
    want = [label for _, label in issues]
    issue_f1 = report("multi-line issues", want, got)
    overall = report("all (single lines and issues)", truth + want, predicted + got)
    parts = ", ".join(f"{split} {f1:.3f}" for split, f1 in by_split.items())
    print(f"\nmacro-F1: {parts}, issues {issue_f1:.3f}, overall {overall:.3f}")
    assert overall >= MIN_MACRO_F1
    assert by_split["holdout"] >= MIN_MACRO_F1 and by_split["holdout2"] >= MIN_MACRO_F1


def test_loghub_lines_by_reference(classifier: OfflineClassifier, loghub_dir: Path) -> None:
    """A few Loghub lines, labelled here by system and LineId (their text stays in the shared folder)."""
    with LOGHUB_REFS.open(newline="") as f:
        refs = list(csv.DictReader(f))
    truth, predicted = [], []
    for ref in refs:
        with (loghub_dir / ref["system"] / f"{ref['system']}_2k.log_structured.csv").open(newline="") as f:
            content = next(r["Content"] for r in csv.DictReader(f) if r["LineId"] == ref["line_id"])
        truth.append(ref["failure_type"])
        predicted.append(str(classifier.classify_line(content).failure_type))
    accuracy = sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth)
    report(f"Loghub references (accuracy {accuracy:.2f})", truth, predicted)
    assert accuracy >= 0.7


# ----------------------------------------------------------------------------------- the contract
def test_deterministic(classifier: OfflineClassifier) -> None:
    other = OfflineClassifier(RuleSet.load())
    for issue, _ in multi_line_issues()[:8]:
        assert classifier.classify_issue(issue) == classifier.classify_issue(issue) == other.classify_issue(issue)
    for r in ROWS[:40]:
        assert classifier.classify_line(r["line"]) == other.classify_line(r["line"])


def test_a_text_is_memoised_once_it_comes_again() -> None:
    fresh = OfflineClassifier(RuleSet.load())
    issue = issue_of([r["line"] for r in ROWS[:6]])
    first = fresh.classify_issue(issue)
    noted = fresh._memo.sighted()
    assert len(fresh._memo) == 0 and noted > 0  # texts seen once are only noted
    assert fresh.classify_issue(issue) == first and len(fresh._memo) == noted and fresh._memo.sighted() == 0
    assert fresh.classify_issue(issue) == first == OfflineClassifier(RuleSet.load()).classify_issue(issue)


def test_evidence_only_cites_ids_it_was_given(classifier: OfflineClassifier) -> None:
    for issue, label in multi_line_issues():
        verdict = classifier.classify_issue(issue)
        line_ids = {item["id"] for item in issue.logs}
        assert set(verdict.line_ids) <= line_ids
        assert set(verdict.template_ids) <= set(issue.template_ids)
        if label != BENIGN and str(verdict.failure_type) == label:
            assert verdict.line_ids, "a failure verdict cites the lines it relied on"
            cited = [item for item in issue.logs if item["id"] in verdict.line_ids]
            assert {item["raw"] for item in cited} & {r["line"] for r in ROWS if r["failure_type"] == label}
            # a routine line is cited only if, read alone as the issue reads it, it points at the same type
            assert all(classifier.classify_line(item["read"], context=item["component"]).failure_type
                       is verdict.failure_type for item in cited)
        again = parse_verdict(_schema_answer(verdict), classifier=verdict.classifier, known_line_ids=line_ids,
                              known_template_ids=issue.template_ids)
        assert again.line_ids == verdict.line_ids and again.template_ids == verdict.template_ids


def _schema_answer(v: Verdict) -> dict:
    out = v.as_result()
    return {k: out[k] for k in ("failure_type", "severity", "confidence", "summary", "root_cause_hypothesis",
                                "recommended_action", "evidence")}


def test_cluster_evidence_uses_env_ids(classifier: OfflineClassifier) -> None:
    lines = [r["line"] for r in ROWS if r["failure_type"] == "os_oom"][:4]
    cluster = ClusterCandidate(
        id="p-1@4", os="linux", cluster_id="p-1", env_ids=[f"17000{i}-0" for i in range(4)],
        sample_logs=[{"raw": line, "templated": line, "os": "linux", "source": "f", "env_id": f"17000{i}-0"}
                     for i, line in enumerate(lines)],
        member_count=4, template_ids=["t-a", "t-b"],
    )
    verdict = classifier.classify_cluster(cluster, templates={"t-a": "Out of memory: Killed process <*> (<*>)"})
    assert verdict.failure_type is FailureType.OS_OOM
    assert set(verdict.line_ids) <= set(cluster.env_ids) and verdict.line_ids
    assert set(verdict.template_ids) <= {"t-a"}


def test_benign_noise_is_benign_and_quiet(classifier: OfflineClassifier) -> None:
    for r in ROWS:
        verdict = classifier.classify_line(r["line"])
        if verdict.failure_type is FailureType.BENIGN:
            assert verdict.severity.rank <= Severity.INFO.rank and not verdict.alert, r["line"]
    routine = [r["line"] for r in ROWS if r["failure_type"] == BENIGN and r["split"] == "dev"][:12]
    verdict = classifier.classify_issue(issue_of(routine, host="web-02", component="sshd"))
    assert verdict.failure_type is FailureType.BENIGN
    assert verdict.severity is Severity.INFO
    assert verdict.recommended_action == "No action needed."


def test_one_failure_among_routine_lines_still_wins(classifier: OfflineClassifier) -> None:
    routine = [r["line"] for r in ROWS if r["failure_type"] == BENIGN][:19]
    disk = next(r["line"] for r in ROWS if "Medium Error" in r["line"])
    verdict = classifier.classify_issue(issue_of([*routine[:9], disk, *routine[9:]], component="kernel"))
    assert verdict.failure_type is FailureType.HARDWARE_DISK
    assert verdict.severity.rank >= Severity.ERROR.rank
    assert len(verdict.line_ids) == 1


def test_summary_is_specific(classifier: OfflineClassifier) -> None:
    lines = [r["line"] for r in ROWS if r["failure_type"] == "security_auth"][:3]
    verdict = classifier.classify_issue(issue_of(lines, host="bastion-1", component="sshd"))
    assert verdict.failure_type is FailureType.SECURITY_AUTH
    assert "bastion-1" in verdict.summary and "3 lines" in verdict.summary and "sshd" in verdict.summary
    assert "admin" in verdict.summary  # the user the evidence names
    assert verdict.root_cause_hypothesis and verdict.recommended_action
    assert verdict.classifier == "offline-v1"


def test_close_operator_label_overrides(classifier: OfflineClassifier) -> None:
    disk = [r["line"] for r in ROWS if r["failure_type"] == "hardware_disk"][:3]
    issue = issue_of(disk, component="kernel")
    assert classifier.classify_issue(issue).failure_type is FailureType.HARDWARE_DISK
    close = Neighbour(label="benign", distance=0.05, labelled_by="operator", id="p-known-noise")
    verdict = classifier.classify_issue(issue, [close])
    assert verdict.failure_type is FailureType.BENIGN
    assert verdict.extra["neighbours"] == ["p-known-noise"] and "p-known-noise" in verdict.summary
    far = Neighbour(label="benign", distance=0.6, labelled_by="operator", id="p-far")
    assert classifier.classify_issue(issue, [far]).failure_type is FailureType.HARDWARE_DISK
    # the offline classifier's own past label is weak evidence: it must not echo itself over clear text
    echo = Neighbour(label="app_config", distance=0.05, labelled_by="offline-v1", id="p-echo")
    assert classifier.classify_issue(issue, [echo]).failure_type is FailureType.HARDWARE_DISK


def test_neighbour_decides_when_the_text_says_nothing(classifier: OfflineClassifier) -> None:
    vague = ["worker 7 state=3 flags=0x1c", "worker 7 state=4 flags=0x1c"]
    issue = issue_of(vague)
    assert classifier.classify_issue(issue).failure_type is FailureType.BENIGN
    hint = Neighbour(label="app_crash", distance=0.15, labelled_by="llm:gpt-4o-mini", id="p-crashy")
    verdict = classifier.classify_issue(issue, [hint, Neighbour(label="not-a-type", distance=0.0)])
    assert verdict.failure_type is FailureType.APP_CRASH
    assert set(verdict.template_ids) <= set(issue.template_ids)


@pytest.mark.parametrize("logs", [
    [],
    [None, 42, "raw string", {"id": "1-0"}, {"raw": ""}, {"templated": None, "raw": None}],
    [{"id": "1-0", "raw": "\x00\x01\x02 \ufffd\ufffd ###", "templated": "", "template_id": None}],
    [{"id": "2-0", "raw": "x" * 100_000}],
])
def test_garbage_gives_a_valid_benign_verdict(classifier: OfflineClassifier, logs: list) -> None:
    issue = IssueCandidate(id="g", os="", issue_key="", templated_summary="", logs=logs,
                           template_ids=["t1", "t2"], hints={"no_such_type": 3.0, "benign": "x"})
    verdict = classifier.classify_issue(issue)
    assert verdict.failure_type is FailureType.BENIGN
    assert verdict.severity is Severity.INFO and 0.0 <= verdict.confidence <= 0.5
    assert verdict.summary
    assert set(verdict.line_ids) <= {"1-0", "2-0"} and set(verdict.template_ids) <= {"t1", "t2"}
    parse_verdict(_schema_answer(verdict), classifier="offline-v1")


def test_line_entry_point(classifier: OfflineClassifier) -> None:
    panic = classifier.classify_line("kernel: Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b")
    assert panic == LineVerdict(panic.failure_type, panic.severity, panic.confidence, panic.rules)
    assert panic.failure_type is FailureType.OS_KERNEL_PANIC and panic.severity is Severity.CRITICAL
    assert panic.alert and "kernel-panic" in panic.rules
    failed_login = classifier.classify_line("sshd[1]: Failed password for root from 192.0.2.1 port 22 ssh2")
    assert failed_login.failure_type is FailureType.SECURITY_AUTH and not failed_login.alert  # a warning
    quiet = classifier.classify_line("")
    assert quiet.failure_type is FailureType.BENIGN and not quiet.alert
    # the header's level is the strongest prior: an error line whose words say nothing stays an error
    assert classifier.classify_line("plain text", level="error").alert
    assert not classifier.classify_line("plain text", level="combo").alert  # not a level: the words decide
    corrected = classifier.classify_line("EDAC MC0: 1 CE memory read error on DIMM_A1 (channel:0 slot:0)")
    assert corrected.failure_type is FailureType.HARDWARE_MEMORY and corrected.severity is Severity.WARNING


def test_confidence_is_calibrated(classifier: OfflineClassifier) -> None:
    """On the parts the calibration was not fitted on, confidence says how often the type is right."""
    rows = [r for r in ROWS if r["split"] != "dev"]
    verdicts = [classifier.classify_line(r["line"]) for r in rows]
    right = [str(v.failure_type) == r["failure_type"] for v, r in zip(verdicts, rows, strict=True)]
    accuracy = sum(right) / len(right)
    mean_confidence = sum(v.confidence for v in verdicts) / len(verdicts)
    brier = sum((v.confidence - ok) ** 2 for v, ok in zip(verdicts, right, strict=True)) / len(rows)
    print(f"\naccuracy {accuracy:.3f}, mean confidence {mean_confidence:.3f}, Brier {brier:.3f}")
    assert abs(mean_confidence - accuracy) <= 0.08 and brier <= 0.1
    sure = [ok for v, ok in zip(verdicts, right, strict=True) if v.confidence >= 0.9]
    unsure = [ok for v, ok in zip(verdicts, right, strict=True) if v.confidence < 0.6]
    assert sure and unsure and sum(sure) / len(sure) > sum(unsure) / len(unsure)
