"""`streamapp mine --format FORMAT INPUT -o OUTPUT.csv`: the final template of every line of a file.

The same path the consumer agent takes (`parse_line`, then `TemplateMiner.add_many` per batch),
followed by a second read that asks the miner for each line's final template.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from streamapp.commands.logfile import (
    BATCH,
    MineStats,
    add_input_arguments,
    line_format,
    mine,
    read_messages,
    write_csv,
)
from streamapp.errors import ConfigError
from streamapp.mining import TemplateMiner
from streamapp.parsing import LineFormat

# `read_messages` and `BATCH` are imported from here by the accuracy test and the mining bench.
__all__ = ["BATCH", "MineStats", "mine_file", "read_messages", "register", "run"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("mine", help="mine the templates of a log file into a CSV")
    add_input_arguments(p, "CSV: LineId,EventTemplate,TemplateId")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        fmt = line_format(args)
    except ConfigError as exc:
        print(f"streamapp mine: {exc}", file=sys.stderr)
        return 2
    try:
        stats = mine_file(args.input, args.output, fmt, progress=not args.no_progress)
    except OSError as exc:
        print(f"streamapp mine: {exc}", file=sys.stderr)
        return 1
    print(f"mined {stats.summary()}", file=sys.stderr)
    return 0


def mine_file(path: Path, out: Path, fmt: LineFormat, progress: bool = True) -> MineStats:
    """Mine `path` and write every line's final template to `out` (rejected lines: empty cells)."""
    miner, stats = mine(path, fmt, progress)
    write_csv(out, ["LineId", "EventTemplate", "TemplateId"], _rows(miner, read_messages(path, fmt)))
    return stats


def _rows(miner: TemplateMiner, messages: Iterator[str]) -> Iterator[list[object]]:
    for line_id, message in enumerate(messages, start=1):
        final = miner.match(message)
        if final is None or final.template_id is None:
            yield [line_id, "", ""]
        else:
            yield [line_id, final.template, final.template_id]
