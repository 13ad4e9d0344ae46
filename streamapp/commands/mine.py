"""`streamapp mine --format FORMAT INPUT -o OUTPUT.csv`: the final template of every line of a file.

The same path the consumer agent takes (`parse_line`, then `TemplateMiner.add_many` per batch),
followed by a second read that asks the miner for each line's final template.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from tqdm import tqdm

from streamapp.errors import ConfigError
from streamapp.mining import TemplateMiner
from streamapp.parsing import PRESETS, LineFormat, parse_line
from streamapp.parsing.formats import DEFAULT_MESSAGE_KEYS

BATCH = 1000  # lines per `add_many`, like one consumer batch
PROGRESS_MIN_BYTES = 8 << 20  # files from this size on get a progress bar


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("mine", help="mine the templates of a log file into a CSV")
    p.add_argument(
        "--format",
        required=True,
        help=f"a preset ({', '.join(PRESETS)}) or a Loghub format string such as '<Date> <Time> <Content>'",
    )
    p.add_argument("input", type=Path, help="log file, one line per record")
    p.add_argument("-o", "--output", type=Path, required=True, help="CSV: LineId,EventTemplate,TemplateId")
    p.add_argument(
        "--message-key",
        action="append",
        dest="message_keys",
        help=f"JSON/logfmt key holding the message, tried in order (default: {', '.join(DEFAULT_MESSAGE_KEYS)})",
    )
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        fmt = LineFormat.from_spec(args.format, tuple(args.message_keys or DEFAULT_MESSAGE_KEYS))
    except ConfigError as exc:
        print(f"streamapp mine: {exc}", file=sys.stderr)
        return 2
    try:
        stats = mine_file(args.input, args.output, fmt, progress=not args.no_progress)
    except OSError as exc:
        print(f"streamapp mine: {exc}", file=sys.stderr)
        return 1
    rejected = ", ".join(f"{n} {reason}" for reason, n in sorted(stats.rejected.items()))
    print(
        f"mined {stats.lines} lines: {stats.templates} templates, "
        f"{stats.no_header} without a header, rejected: {rejected or 'none'}",
        file=sys.stderr,
    )
    return 0


@dataclass
class MineStats:
    """What one run saw."""

    lines: int = 0
    no_header: int = 0  # lines no header matched: mined whole
    rejected: Counter[str] = field(default_factory=Counter)  # reason -> lines
    templates: int = 0


def mine_file(path: Path, out: Path, fmt: LineFormat, progress: bool = True) -> MineStats:
    """Mine `path` and write every line's final template to `out` (rejected lines: empty cells)."""
    stats = MineStats()
    miner = TemplateMiner()
    show = progress and path.stat().st_size >= PROGRESS_MIN_BYTES
    with tqdm(total=path.stat().st_size, unit="B", unit_scale=True, disable=not show, desc="mining") as bar:
        for batch in _batches(read_messages(path, fmt, stats, bar)):
            for result in miner.add_many(batch):
                if result.rejected:
                    stats.rejected[result.rejected] += 1
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["LineId", "EventTemplate", "TemplateId"])
        for line_id, message in enumerate(read_messages(path, fmt), start=1):
            final = miner.match(message)
            if final is None or final.template_id is None:
                writer.writerow([line_id, "", ""])
            else:
                writer.writerow([line_id, final.template, final.template_id])
    os.replace(tmp, out)
    stats.templates = len(miner.templates())
    return stats


def read_messages(
    path: Path, fmt: LineFormat, stats: MineStats | None = None, bar: tqdm | None = None
) -> Iterator[str]:
    """The message of each line (undecodable bytes become U+FFFD; the miner judges them)."""
    stats = MineStats() if stats is None else stats
    with path.open("rb") as f:
        for raw in f:
            if bar is not None:
                bar.update(len(raw))
            parsed = parse_line(raw.decode("utf-8", errors="replace").rstrip("\r\n"), fmt)
            stats.lines += 1
            stats.no_header += not parsed.matched
            yield parsed.message


def _batches(messages: Iterator[str]) -> Iterator[list[str]]:
    while batch := list(islice(messages, BATCH)):
        yield batch
