"""What the file commands (`mine`, `classify`) share: their input options, each line parsed by its
format, the mining pass the consumer agent takes (`TemplateMiner.add_many` per batch), and the CSV
written whole or not at all."""

from __future__ import annotations

import argparse
import csv
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from tqdm import tqdm

from streamapp.mining import TemplateMiner
from streamapp.parsing import PRESETS, LineFormat, ParsedLine, parse_line
from streamapp.parsing.formats import DEFAULT_MESSAGE_KEYS

BATCH = 1000  # lines per `add_many`, like one consumer batch
PROGRESS_MIN_BYTES = 8 << 20  # files from this size on get a progress bar


def add_input_arguments(p: argparse.ArgumentParser, output_help: str) -> None:
    """`--format`, `INPUT`, `-o OUTPUT`, `--message-key`, `--no-progress`."""
    p.add_argument(
        "--format",
        required=True,
        help=f"a preset ({', '.join(PRESETS)}) or a Loghub format string such as '<Date> <Time> <Content>'",
    )
    p.add_argument("input", type=Path, help="log file, one line per record")
    p.add_argument("-o", "--output", type=Path, required=True, help=output_help)
    p.add_argument(
        "--message-key",
        action="append",
        dest="message_keys",
        help=f"JSON/logfmt key holding the message, tried in order (default: {', '.join(DEFAULT_MESSAGE_KEYS)})",
    )
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")


def line_format(args: argparse.Namespace) -> LineFormat:
    """The format the options name (raises ConfigError)."""
    return LineFormat.from_spec(args.format, tuple(args.message_keys or DEFAULT_MESSAGE_KEYS))


@dataclass
class MineStats:
    """What one run saw."""

    lines: int = 0
    no_header: int = 0  # lines no header matched: mined whole
    rejected: Counter[str] = field(default_factory=Counter)  # reason -> lines
    templates: int = 0

    def summary(self) -> str:
        rejected = ", ".join(f"{n} {reason}" for reason, n in sorted(self.rejected.items()))
        return (
            f"{self.lines} lines: {self.templates} templates, "
            f"{self.no_header} without a header, rejected: {rejected or 'none'}"
        )


def mine(path: Path, fmt: LineFormat, progress: bool = True) -> tuple[TemplateMiner, MineStats]:
    """A miner that has learnt every line of `path`, so `match` gives each line its final template."""
    stats = MineStats()
    miner = TemplateMiner()
    show = progress and path.stat().st_size >= PROGRESS_MIN_BYTES
    with tqdm(total=path.stat().st_size, unit="B", unit_scale=True, disable=not show, desc="mining") as bar:
        for batch in _batches(read_messages(path, fmt, stats, bar)):
            for result in miner.add_many(batch):
                if result.rejected:
                    stats.rejected[result.rejected] += 1
    stats.templates = len(miner.templates())
    return miner, stats


def read_lines(
    path: Path, fmt: LineFormat, stats: MineStats | None = None, bar: tqdm | None = None
) -> Iterator[ParsedLine]:
    """Each line parsed by `fmt` (undecodable bytes become U+FFFD; the miner judges them)."""
    stats = MineStats() if stats is None else stats
    with path.open("rb") as f:
        for raw in f:
            if bar is not None:
                bar.update(len(raw))
            parsed = parse_line(raw.decode("utf-8", errors="replace").rstrip("\r\n"), fmt)
            stats.lines += 1
            stats.no_header += not parsed.matched
            yield parsed


def read_messages(
    path: Path, fmt: LineFormat, stats: MineStats | None = None, bar: tqdm | None = None
) -> Iterator[str]:
    """The message of each line."""
    return (parsed.message for parsed in read_lines(path, fmt, stats, bar))


def write_csv(out: Path, header: list[str], rows: Iterable[list[object]]) -> None:
    """Write through a temporary file, so a failed run leaves no half CSV behind."""
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    os.replace(tmp, out)


def _batches(messages: Iterator[str]) -> Iterator[list[str]]:
    while batch := list(islice(messages, BATCH)):
        yield batch
