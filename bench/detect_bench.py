"""Detection on real labelled logs, scored leave-one-system-out: the shipped classifier against a filter
on the header's level.

For each Loghub-2k system with labels in `tests/data/loghub_labels/<Sys>.csv` (written by hand, template
by template, as an on-call engineer would; a line takes its template's label unless labelled apart), the
raw log is classified exactly as `streamapp classify` does (mined, then the offline classifier per
template and header level) and scored per line against the labels:

- alert precision, recall and F1 of the classifier, and of the baseline "alert when the header's level is
  FATAL/ERROR-class" (undefined, `-`, where the system has no alert line);
- lines flagged on systems with no alert line (the false alarms an operator would see);
- alerts the pipeline's grouping would raise: the alert lines as occurrences (host, failure type,
  template family, the line's own timestamp) grouped by `streamapp.alert_groups.group_alerts` with the
  default `ALERT_GROUP_WINDOW_SEC`, and that figure per 1,000 lines;
- failure-type macro-F1 over the line labels (for information).

Leave-one-system-out: the classifier's keyword model, rules and reference set were written from
general knowledge and the team's own labelled lines; nothing in them comes from a Loghub system. Its
only tuned part is `prior.Policy` (how much evidence an alert needs without a header level, and when a
repeated warning is persistent). For each held-out system the policy is chosen on the other 11
systems alone (best macro alert F1 over their systems with alert lines, minus a penalty for flagging
more than 1% of a quiet system's lines), then the held-out system is scored with it: that table, and
`loso_macro_f1`, measure the shipped classifier as each fold would have shipped it. The policy chosen
on all 12 systems is the shipped one (`prior.SHIPPED`); the bench says if they differ. With
`--loghub-references` it also reports, apart, a variant that adds the other 11 systems' labelled
templates to the references (never the held-out one's).

    .venv/bin/python bench/detect_bench.py [--data <shared>/data/loghub-2k] [--loghub-references]

The last line is `loso_macro_f1=<mean over systems with alert lines of the classifier's line-level
alert F1>`.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from streamapp.alert_groups import Occurrence, group_alerts, template_family
from streamapp.classify import OfflineClassifier
from streamapp.classify.prior import SHIPPED, Policy
from streamapp.classify.reference import Reference, shipped_index
from streamapp.commands.classify import ClassifyStats, line_verdicts
from streamapp.commands.logfile import MineStats, mine, read_lines
from streamapp.mining import TemplateMiner
from streamapp.parsing import LineFormat, ParsedLine
from streamapp.rules import RuleSet
from streamapp.settings import load_settings
from streamapp.taxonomy import FailureType, Severity, header_severity

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("STREAMAPP_SHARED_DIR", REPO.parent / "shared")) / "data" / "loghub-2k"
LABELS = REPO / "tests" / "data" / "loghub_labels"
SYSTEMS = ("Android", "HDFS", "HPC", "Hadoop", "HealthApp", "Linux", "Mac", "OpenStack", "Proxifier", "Spark",
           "Windows", "Zookeeper")
QUIET_SHARE = 0.01  # at most this share of lines flagged on a system with no alert line
# The policies a fold chooses from (`evidence`, `infra_evidence` above 1 = never without a rule;
# `repeats` 0 = never persistent). Ties go to the earlier entry: lower evidence thresholds, no persistence.
GRID = [Policy(e, i, r) for e in (0.7, 0.8, 0.9, 1.01) for i in (0.4, 0.5, 0.6, 0.7, 0.8, 1.01)
        for r in (0, 10, 30, 100)]
QUIET_PENALTY = 10.0  # objective lost per unit of share flagged beyond QUIET_SHARE on a quiet system
# Header timestamps of the usual shapes (for the grouping window); year-less ones are fine for spans.
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%y%m%d %H%M%S", "%m-%d %H:%M:%S.%f", "%b %d %H:%M:%S",
                "%y/%m/%d %H:%M:%S", "%Y%m%d-%H:%M:%S:%f", "%m.%d %H:%M:%S", "%Y/%m/%d %H:%M:%S",
                "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f", "%d %b %Y %H:%M:%S.%f", "%m/%d/%Y %H:%M:%S")


@dataclass(frozen=True)
class Label:
    alert: bool
    failure_type: FailureType
    severity: Severity


@dataclass
class Truth:
    """One system's lines as labelled: per line, its template, label, header level and host."""

    templates: dict[str, str]  # EventId -> template text
    line_template: list[str]  # EventId per line (LineId - 1)
    labels: list[Label]
    levels: list[str]
    hosts: list[str]
    times: list[float]


def read_labels(path: Path) -> tuple[dict[str, Label], dict[int, Label]]:
    """`kind,id,alert,failure_type,severity,note`: template labels by EventId, line labels by LineId."""
    by_template: dict[str, Label] = {}
    by_line: dict[int, Label] = {}
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            label = Label(row["alert"].strip() == "1", FailureType(row["failure_type"].strip()),
                          Severity(row["severity"].strip()))
            if row["kind"].strip() == "template":
                by_template[row["id"].strip()] = label
            else:
                by_line[int(row["id"])] = label
    return by_template, by_line


def load_truth(data: Path, system: str, fmt: LineFormat) -> Truth | None:
    label_file = LABELS / f"{system}.csv"
    if not label_file.exists():
        return None
    by_template, by_line = read_labels(label_file)
    folder = data / system
    with (folder / f"{system}_2k.log_templates.csv").open(newline="", encoding="utf-8") as f:
        templates = {r["EventId"]: r["EventTemplate"] for r in csv.DictReader(f)}
    with (folder / f"{system}_2k.log_structured.csv").open(newline="", encoding="utf-8") as f:
        line_template = [r["EventId"] for r in csv.DictReader(f)]
    missing = sorted(set(line_template) - set(by_template))
    if missing:
        print(f"{system}: {len(missing)} templates unlabelled ({', '.join(missing[:5])}...): skipped", file=sys.stderr)
        return None
    labels = [by_line.get(i, by_template[t]) for i, t in enumerate(line_template, start=1)]
    return Truth(templates, line_template, labels, *header_facts(list(read_lines(folder / f"{system}_2k.log", fmt))))


def header_facts(parsed: Sequence[ParsedLine]) -> tuple[list[str], list[str], list[float]]:
    """Per line: its header level, host and time in seconds (a line without a timestamp keeps the last one)."""
    times, last = [], 0.0
    for p in parsed:
        last = seconds(p.timestamp or "") or last
        times.append(last)
    return [p.level or "" for p in parsed], [p.host or "" for p in parsed], times


def seconds(stamp: str) -> float | None:
    """Epoch-like seconds of a header timestamp, or None if no usual shape fits."""
    text = " ".join(stamp.replace(",", ".").split())
    if text.isdigit() and len(text) >= 9:
        return float(text)
    for shape in TIME_FORMATS:
        try:
            return datetime.strptime(text, shape).timestamp()  # only differences matter
        except ValueError:
            continue
    return None


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, truth: bool, predicted: bool) -> None:
        self.tp += truth and predicted
        self.fp += predicted and not truth
        self.fn += truth and not predicted

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        if not self.tp + self.fn:
            return None  # no alert line: F1 is undefined, the flagged count says what matters
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn)


@dataclass
class Result:
    system: str
    lines: int
    alert_lines: int
    ours: Score
    baseline: Score
    flagged: int
    grouped_alerts: int
    type_f1: float
    overruled: int
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def passes(self) -> bool:
        if self.alert_lines == 0:
            return self.flagged <= QUIET_SHARE * self.lines
        return (self.ours.f1 or 0.0) >= (self.baseline.f1 or 0.0)


def macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """Macro-F1 over the classes present in the truth."""
    pairs = Counter(zip(truth, predicted, strict=True))
    f1s = []
    for label in set(truth):
        hit, said, real = pairs[(label, label)], predicted.count(label), truth.count(label)
        f1s.append(2 * hit / (said + real) if hit else 0.0)
    return sum(f1s) / len(f1s) if f1s else 0.0


@dataclass
class System:
    """A labelled system, mined once (policies and variants reuse the miner)."""

    name: str
    truth: Truth
    miner: TemplateMiner
    mined: MineStats
    parsed: list[ParsedLine]


def prepare(data: Path, system: str, fmt: LineFormat) -> System | None:
    truth = load_truth(data, system, fmt)
    return None if truth is None else mined_system(system, data / system / f"{system}_2k.log", fmt, truth)


def mined_system(name: str, path: Path, fmt: LineFormat, truth: Truth) -> System:
    """`path` mined and parsed the way `streamapp classify` reads it."""
    miner, mined = mine(path, fmt, progress=False)
    return System(name, truth, miner, mined, list(read_lines(path, fmt)))


def evaluate(sys_: System, classifier: OfflineClassifier, window_sec: float) -> Result:
    stats = ClassifyStats(sys_.mined)
    truth = sys_.truth
    verdicts = [(tid, v) for _, tid, v in line_verdicts(sys_.miner, classifier, iter(sys_.parsed), stats)]
    texts = {t.template_id: t.template for t in sys_.miner.templates()}
    ours, baseline = Score(), Score()
    occurrences = []
    rows = zip(verdicts, truth.labels, truth.levels, truth.hosts, truth.times, strict=True)
    for n, ((tid, verdict), label, level, host, t) in enumerate(rows):
        ours.add(label.alert, verdict.alert)
        stated = header_severity(level)
        baseline.add(label.alert, stated is not None and stated.rank >= Severity.ERROR.rank)
        if verdict.alert:
            occurrences.append(Occurrence(id=str(n), host=host, failure_type=str(verdict.failure_type),
                                          template_ids=(tid,), t=t, family=template_family(texts.get(tid, tid))))
    true_types = [str(x.failure_type) for x in truth.labels]
    said_types = [str(v.failure_type) for _, v in verdicts]
    confusion = Counter((t, p) for t, p, (_, v), x in zip(true_types, said_types, verdicts, truth.labels, strict=True)
                        if x.alert != v.alert)
    return Result(
        system=sys_.name, lines=len(verdicts), alert_lines=sum(x.alert for x in truth.labels), ours=ours,
        baseline=baseline, flagged=ours.tp + ours.fp, grouped_alerts=len(group_alerts(occurrences, window_sec)),
        type_f1=macro_f1(true_types, said_types), overruled=stats.overruled, confusion=confusion,
    )


def objective(results: Sequence[Result]) -> float:
    """What a fold maximises on its training systems: mean alert F1 where there are alert lines, less
    a penalty for every quiet system flagged beyond its 1%."""
    f1s = [r.ours.f1 for r in results if r.ours.f1 is not None]
    over = sum(max(0.0, r.flagged / r.lines - QUIET_SHARE) for r in results if r.alert_lines == 0)
    return (sum(f1s) / len(f1s) if f1s else 0.0) - QUIET_PENALTY * over


def choose(by_policy: dict[Policy, dict[str, Result]], systems: Sequence[str]) -> Policy:
    """The grid's best policy on `systems`; ties go to the earlier entry (see `GRID`)."""
    return max(GRID, key=lambda p: (round(objective([by_policy[p][s] for s in systems]), 9), -GRID.index(p)))


def loghub_references(systems: Sequence[System]) -> list[Reference]:
    """Every labelled template of `systems` as a reference (for the variant only)."""
    out = []
    for system in systems:
        first: dict[str, Label] = {}
        for tid, label in zip(system.truth.line_template, system.truth.labels, strict=True):
            first.setdefault(tid, label)
        out += [Reference(system.truth.templates[t], lab.failure_type, lab.severity)
                for t, lab in first.items() if t in system.truth.templates]
    return out


def fmt_num(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def print_table(title: str, results: list[Result]) -> float:
    print(f"\n== {title}")
    print(f"{'system':<10}{'lines':>6}{'alerts':>7} | {'P':>6}{'R':>7}{'F1':>7} | {'base P':>7}{'base R':>7}"
          f"{'base F1':>8} | {'flagged':>8}{'groups':>7}{'/1k':>6}{'type F1':>8}{'overruled':>10}  ok")
    for r in results:
        print(f"{r.system:<10}{r.lines:>6}{r.alert_lines:>7} | {fmt_num(r.ours.precision):>6}"
              f"{fmt_num(r.ours.recall):>7}{fmt_num(r.ours.f1):>7} | {fmt_num(r.baseline.precision):>7}"
              f"{fmt_num(r.baseline.recall):>7}{fmt_num(r.baseline.f1):>8} | {r.flagged:>8}{r.grouped_alerts:>7}"
              f"{1000 * r.grouped_alerts / r.lines:>6.1f}{r.type_f1:>8.3f}{r.overruled:>10}"
              f"  {'yes' if r.passes else 'NO'}")
    scored = [r.ours.f1 for r in results if r.ours.f1 is not None]
    base = [r.baseline.f1 for r in results if r.baseline.f1 is not None]
    macro = sum(scored) / len(scored) if scored else 0.0
    print(f"macro alert F1 over {len(scored)} systems with alert lines: classifier {macro:.3f}, "
          f"baseline {sum(base) / len(base) if base else 0.0:.3f}; failure-type macro-F1 (information) "
          f"{sum(r.type_f1 for r in results) / max(1, len(results)):.3f}; "
          f"systems passing: {sum(r.passes for r in results)}/{len(results)}")
    return macro


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--systems", nargs="*", default=list(SYSTEMS))
    ap.add_argument("--loghub-references", action="store_true",
                    help="also report a variant whose references include the other systems' labelled templates")
    ap.add_argument("--errors", type=int, default=0, help="print the N most frequent alert mistakes per system")
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    formats = json.loads((args.data / "formats.json").read_text(encoding="utf-8"))
    window = load_settings().alert_group_window_sec
    base = OfflineClassifier(RuleSet.load(), shipped_index())
    systems = {}
    for name in args.systems:
        prepared = prepare(args.data, name, LineFormat.from_spec(formats[name]))
        if prepared is None:
            print(f"{name}: no complete labels in {LABELS}: not scored", file=sys.stderr)
        else:
            systems[name] = prepared
    if not systems:
        print("no labelled system found", file=sys.stderr)
        return 1
    by_policy = {p: {n: evaluate(s, base.with_policy(p), window) for n, s in systems.items()} for p in GRID}
    results, variant, chosen = [], [], {}
    for name, prepared in systems.items():
        chosen[name] = choose(by_policy, [n for n in systems if n != name])
        results.append(by_policy[chosen[name]][name])
        if args.errors:
            print(name, results[-1].confusion.most_common(args.errors), file=sys.stderr)
        if args.loghub_references:
            index = shipped_index().with_extra(loghub_references([s for n, s in systems.items() if n != name]))
            variant.append(evaluate(prepared, OfflineClassifier(base.rules, index, chosen[name]), window))
    overall = choose(by_policy, list(systems))
    print("Leave-one-system-out: no Loghub line or label is in the classifier; each system is scored with the")
    print("policy chosen on the other systems alone. Policy per held-out system (evidence, infra_evidence, repeats):")
    for name, p in chosen.items():
        print(f"  {name:<10} {p.evidence:.2f} {p.infra_evidence:.2f} {p.repeats}")
    note = "" if overall == SHIPPED else "  <- differs from prior.SHIPPED: update it"
    print(f"Chosen on all {len(systems)} systems: {overall}{note}")
    print(f"Grouping: streamapp.alert_groups.group_alerts, window {window:.0f} s, on the lines' header timestamps.")
    if variant:
        print_table("variant (not shipped): references + the other systems' labelled Loghub templates", variant)
    macro = print_table("classifier (policy chosen leave-one-system-out) vs header-level baseline", results)
    print(f"loso_macro_f1={macro:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
