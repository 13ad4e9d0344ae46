"""Detection on the held-out corpus written blind to the classifier (`tests/data/heldout`): nine kinds of
systems that are not among the Loghub-2k twelve, labelled line by line.

`bench/detect_bench.py`'s leave-one-system-out figure protects the classifier's tuned policy, not its
design, which was shaped after reading its mistakes on the twelve Loghub systems. This corpus was
written and labelled without reading the classifier, its rules, its references or its output, and
frozen (committed) before this script first ran; its figure is the one nobody tuned for. Each file is
classified exactly as `streamapp classify` does (mined, then the shipped offline classifier with the
shipped policy per template and header level) and scored per line with `detect_bench`'s scoring:

- alert precision, recall and F1 of the classifier and of the baseline "alert when the header's level is
  FATAL/ERROR-class" (`-` where undefined: no alert line, or nothing flagged);
- lines flagged on systems with no alert line (false alarms an operator would see);
- alerts after the pipeline's grouping (`streamapp.alert_groups.group_alerts`, default window) and per
  1,000 lines; failure-type macro-F1 over the line labels (for information).

    .venv/bin/python bench/detect_heldout.py [--corpus tests/data/heldout]

The last line is `heldout_macro_f1=<mean over systems with alert lines of the classifier's line-level
alert F1>`.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from pathlib import Path

from detect_bench import REPO, Label, Truth, evaluate, header_facts, mined_system, print_table

from streamapp.classify import OfflineClassifier
from streamapp.classify.prior import SHIPPED
from streamapp.classify.reference import shipped_index
from streamapp.commands.logfile import read_lines
from streamapp.parsing import LineFormat
from streamapp.rules import RuleSet
from streamapp.settings import load_settings
from streamapp.taxonomy import FailureType, Severity

CORPUS = REPO / "tests" / "data" / "heldout"


def read_line_labels(path: Path) -> list[Label]:
    """`line,alert,failure_type,severity,note`, one row per line in order."""
    with path.open(newline="", encoding="utf-8") as f:
        return [Label(row["alert"] == "1", FailureType(row["failure_type"]), Severity(row["severity"]))
                for row in csv.DictReader(f)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    formats_file = args.corpus / "formats.json"
    if not formats_file.is_file():
        print(f"no held-out corpus at {args.corpus} (formats.json missing)", file=sys.stderr)
        return 1
    formats = json.loads(formats_file.read_text(encoding="utf-8"))
    classifier = OfflineClassifier(RuleSet.load(), shipped_index()).with_policy(SHIPPED)
    window = load_settings().alert_group_window_sec
    results = []
    for name, spec in formats.items():
        fmt, path = LineFormat.from_spec(spec), args.corpus / f"{name}.log"
        labels = read_line_labels(args.corpus / f"{name}.labels.csv")
        truth = Truth({}, [], labels, *header_facts(list(read_lines(path, fmt))))
        if len(truth.levels) != len(labels):
            print(f"{name}: {len(truth.levels)} lines but {len(labels)} labels", file=sys.stderr)
            return 1
        results.append(evaluate(mined_system(name, path, fmt, truth), classifier, window))
    print("Held-out corpus written blind to the classifier; shipped classifier and policy "
          f"(evidence {SHIPPED.evidence:.2f}, infra_evidence {SHIPPED.infra_evidence:.2f}, repeats {SHIPPED.repeats}).")
    print(f"Grouping: streamapp.alert_groups.group_alerts, window {window:.0f} s, on the lines' header timestamps.")
    for r in results:
        if r.alert_lines == 0:
            print(f"incident-free {r.system}: {r.flagged} of {r.lines} lines flagged, "
                  f"{r.grouped_alerts} grouped alerts")
    macro = print_table("classifier vs header-level baseline, held-out corpus", results)
    print(f"heldout_macro_f1={macro:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
