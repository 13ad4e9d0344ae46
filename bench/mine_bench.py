"""Throughput of our template miner against bare drain3 (default `TemplateMiner()`), same lines.

For each of the Loghub-2k systems the messages are extracted once (header cut by the system's
format); then, on those same messages, each miner runs once untimed, then `--repeat` times timed,
each run from a fresh instance (no state carried over). The timed runs of the two miners alternate
(ours, drain3, drain3, ours, ...), so a load spike on the shared machine hits both alike; runs are
timed in CPU seconds of this process, and the best run of each counts. Our miner is fed with
`add_many` in consumer-sized batches; drain3 with `add_log_message` per line.

    .venv/bin/python bench/mine_bench.py [--data <shared>/data/loghub-2k] [--repeat 7]

The last line is `ratio_vs_drain3=<our lines/s / drain3's lines/s>` over all systems together.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from drain3 import TemplateMiner as Drain3Miner

from streamapp.commands.mine import BATCH, read_messages
from streamapp.mining import TemplateMiner
from streamapp.parsing import LineFormat

DEFAULT_DATA = Path(os.environ.get("STREAMAPP_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))


def run_ours(messages: list[str]) -> None:
    miner = TemplateMiner()
    for i in range(0, len(messages), BATCH):
        miner.add_many(messages[i : i + BATCH])


def run_drain3(messages: list[str]) -> None:
    miner = Drain3Miner()
    for m in messages:
        miner.add_log_message(m)


def seconds(run: Callable[[list[str]], None], messages: list[str]) -> float:
    """CPU seconds of one run: time this process was not scheduled (the machine is shared) does
    not count."""
    start = time.process_time()
    run(messages)
    return time.process_time() - start


def best_pair(messages: list[str], repeat: int) -> tuple[float, float]:
    """Best seconds of ours and of drain3 on `messages`, their timed runs interleaved."""
    run_ours(messages)  # warm-up: imports, regex compilation, CPU caches
    run_drain3(messages)
    ours = bare = float("inf")
    for i in range(repeat):
        # Who goes first alternates: neither always runs right after the other's garbage.
        if i % 2:
            bare = min(bare, seconds(run_drain3, messages))
            ours = min(ours, seconds(run_ours, messages))
        else:
            ours = min(ours, seconds(run_ours, messages))
            bare = min(bare, seconds(run_drain3, messages))
    return ours, bare


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA / "data" / "loghub-2k")
    ap.add_argument("--repeat", type=int, default=7, help="timed runs of each miner per system")
    args = ap.parse_args()
    logging.disable(logging.WARNING)  # drain3 warns that it has no drain3.ini
    formats = json.loads((args.data / "formats.json").read_text(encoding="utf-8"))
    systems = sorted(s for s in formats if not s.startswith("_"))
    corpus = {s: list(read_messages(args.data / s / f"{s}_2k.log", LineFormat.from_spec(formats[s]))) for s in systems}
    total = {"ours": 0.0, "drain3": 0.0}
    lines = 0
    print(f"{'system':<10} {'lines':>6} {'ours/s':>10} {'drain3/s':>10} {'ratio':>6}")
    for system, messages in corpus.items():
        ours, bare = best_pair(messages, args.repeat)
        total["ours"] += ours
        total["drain3"] += bare
        lines += len(messages)
        n = len(messages)
        print(f"{system:<10} {n:>6} {n / ours:>10,.0f} {n / bare:>10,.0f} {bare / ours:>6.2f}")
    print(f"{'all':<10} {lines:>6} {lines / total['ours']:>10,.0f} {lines / total['drain3']:>10,.0f}")
    print(f"ratio_vs_drain3={total['drain3'] / total['ours']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
