"""`streamapp classify --format FORMAT INPUT -o OUTPUT.csv`: a verdict for every line of a file, offline.

Lines are mined exactly as by `streamapp mine`; a line's verdict is then the offline classifier's
verdict (no LLM, no services; the same classifier the enricher falls back to) on its final template
at the level the line's header states, read with what the header says about the event (component,
event type: `header_context`) and knowing how many lines of the file share the template. The level is
kept because it is the classifier's strongest prior (`slow query` at `error` alerts, at `warning` it
does not); a header field that holds no level word counts as no level. The values the template masks
are not looked at, but for those that say something (`features.spoken`). So each (template id, level,
context, reading) is classified once and its verdict reused for every such line. Rejected lines (no
template) are classified by their message, uncached. A per-severity summary goes to stderr.

Columns: `LineId,TemplateId,FailureType,Severity,Alert`; `Alert` is `true` for lines of severity
error or worse that are not benign.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from streamapp.classify import LineVerdict, OfflineClassifier
from streamapp.classify.features import spoken
from streamapp.classify.subjects import header_context
from streamapp.commands.logfile import MineStats, add_input_arguments, line_format, mine, read_lines, write_csv
from streamapp.errors import ConfigError
from streamapp.mining import TemplateMiner
from streamapp.parsing import LineFormat, ParsedLine
from streamapp.rules import RuleSet
from streamapp.settings import get_settings
from streamapp.taxonomy import Severity, header_severity

HEADER = ["LineId", "TemplateId", "FailureType", "Severity", "Alert"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("classify", help="classify every line of a log file offline into a CSV")
    add_input_arguments(p, "CSV: " + ",".join(HEADER))
    p.add_argument("--rules", type=Path, help="rule signals file (default: RULES_PATH, else the shipped rules)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        fmt = line_format(args)
        rules = RuleSet.load(args.rules or get_settings().rules_path)
    except (ConfigError, OSError) as exc:
        print(f"streamapp classify: {exc}", file=sys.stderr)
        return 2
    try:
        stats = classify_file(args.input, args.output, fmt, OfflineClassifier(rules), progress=not args.no_progress)
    except OSError as exc:
        print(f"streamapp classify: {exc}", file=sys.stderr)
        return 1
    print(
        f"classified {stats.mined.summary()}; {stats.verdicts} verdicts computed, {stats.alerts} alert lines",
        file=sys.stderr,
    )
    print(stats.by_severity_table(), file=sys.stderr)
    return 0


@dataclass
class ClassifyStats:
    mined: MineStats
    verdicts: int = 0  # classifier calls (distinct template and level pairs, plus rejected lines)
    alerts: int = 0  # lines with Alert=true
    lines: Counter[Severity] = field(default_factory=Counter)  # lines per verdict severity
    alerting: Counter[Severity] = field(default_factory=Counter)  # alert lines per verdict severity
    overruled: int = 0  # lines whose verdict departs from their header's level (with a reason)

    def by_severity_table(self) -> str:
        """Lines and alert lines per severity, most severe first."""
        rows = [f"{'severity':<10}{'lines':>8}{'alerts':>8}"]
        for sev in reversed(Severity):
            rows.append(f"{sev!s:<10}{self.lines[sev]:>8}{self.alerting[sev]:>8}")
        rows.append(f"{'total':<10}{sum(self.lines.values()):>8}{self.alerts:>8}")
        rows.append(f"{self.overruled} lines departed from their header's level, each verdict with its reason")
        return "\n".join(rows)


def classify_file(
    path: Path, out: Path, fmt: LineFormat, classifier: OfflineClassifier, progress: bool = True
) -> ClassifyStats:
    """Mine and classify `path`, writing one row per line to `out`."""
    miner, mined = mine(path, fmt, progress)
    stats = ClassifyStats(mined)
    write_csv(out, HEADER, _rows(miner, classifier, read_lines(path, fmt), stats))
    return stats


def _rows(
    miner: TemplateMiner, classifier: OfflineClassifier, lines: Iterator[ParsedLine], stats: ClassifyStats
) -> Iterator[list[object]]:
    for line_id, template_id, verdict in line_verdicts(miner, classifier, lines, stats):
        yield [line_id, template_id, str(verdict.failure_type), str(verdict.severity), str(verdict.alert).lower()]


def line_verdicts(
    miner: TemplateMiner, classifier: OfflineClassifier, lines: Iterator[ParsedLine], stats: ClassifyStats
) -> Iterator[tuple[int, str, LineVerdict]]:
    """(line number, template id, verdict) per line of a mined file, counted into `stats`."""
    cache: dict[tuple[str, str, str, str], LineVerdict] = {}
    counts = {t.template_id: t.count for t in miner.templates()}
    for line_id, parsed in enumerate(lines, start=1):
        # no level word stated ("" or a `<Level>` field holding a host name) differs from `info`
        level = (parsed.level or "").strip() if header_severity(parsed.level) else ""
        context = header_context(parsed.component, parsed.extra)
        final = miner.match(parsed.message)
        if final is None or final.template_id is None:
            template_id, verdict = "", classifier.classify_line(parsed.message, level=level, context=context)
            stats.verdicts += 1
        else:
            text = spoken(final.template, final.parameters)  # masked values that say something, read
            template_id, key = final.template_id, (final.template_id, level, context, text)
            if key not in cache:
                cache[key] = classifier.classify_line(text, template_id=template_id, level=level,
                                                      context=context, repeats=counts.get(template_id, 1))
                stats.verdicts += 1
            verdict = cache[key]
        stats.alerts += verdict.alert
        stats.lines[verdict.severity] += 1
        stats.alerting[verdict.severity] += verdict.alert
        stats.overruled += bool(verdict.reason)
        yield line_id, template_id, verdict
