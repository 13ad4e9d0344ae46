"""Throughput of our template miner against bare drain3 (default `TemplateMiner()`), same lines.

For each of the Loghub-2k systems the messages are extracted once (header cut by the system's
format); each miner runs once on every system untimed (warm-up), then `--rounds` timed rounds go
over all systems, each run from a fresh instance (no state carried over). Within a round the two
miners run back to back on each system, who goes first alternating, so a load spike on the shared
machine hits both alike; runs are timed in CPU seconds of this process. Each round gives a ratio
(drain3's seconds over ours, all systems together); the median round counts, so one noisy round
moves nothing. Our miner is fed with `add_many` in consumer-sized batches; drain3 with
`add_log_message` per line.

    .venv/bin/python bench/mine_bench.py [--data <shared>/data/loghub-2k] [--rounds 9]

The last line is `ratio_vs_drain3=<our lines/s / drain3's lines/s>`, the median of the rounds.
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
from statistics import median

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


def round_seconds(corpus: dict[str, list[str]], i: int) -> dict[str, tuple[float, float]]:
    """One round: each system's seconds of ours and of drain3, timed back to back. Who goes first
    alternates by round and system, so neither always runs right after the other's garbage."""
    out = {}
    for j, (system, messages) in enumerate(corpus.items()):
        if (i + j) % 2:
            bare = seconds(run_drain3, messages)
            ours = seconds(run_ours, messages)
        else:
            ours = seconds(run_ours, messages)
            bare = seconds(run_drain3, messages)
        out[system] = ours, bare
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA / "data" / "loghub-2k")
    ap.add_argument("--rounds", type=int, default=9, help="timed rounds over all systems")
    args = ap.parse_args()
    logging.disable(logging.WARNING)  # drain3 warns that it has no drain3.ini
    formats = json.loads((args.data / "formats.json").read_text(encoding="utf-8"))
    systems = sorted(s for s in formats if not s.startswith("_"))
    corpus = {s: list(read_messages(args.data / s / f"{s}_2k.log", LineFormat.from_spec(formats[s]))) for s in systems}
    for messages in corpus.values():  # warm-up: imports, regex compilation, CPU caches
        run_ours(messages)
        run_drain3(messages)
    rounds = [round_seconds(corpus, i) for i in range(args.rounds)]
    print(f"medians of {args.rounds} rounds")
    print(f"{'system':<10} {'lines':>6} {'ours/s':>10} {'drain3/s':>10} {'ratio':>6}")
    for system, messages in corpus.items():
        n = len(messages)
        ours = median(r[system][0] for r in rounds)
        bare = median(r[system][1] for r in rounds)
        ratio = median(r[system][1] / r[system][0] for r in rounds)
        print(f"{system:<10} {n:>6} {n / ours:>10,.0f} {n / bare:>10,.0f} {ratio:>6.2f}")
    lines = sum(map(len, corpus.values()))
    ours_total = [sum(o for o, _ in r.values()) for r in rounds]
    bare_total = [sum(b for _, b in r.values()) for r in rounds]
    ratios = sorted(b / o for o, b in zip(ours_total, bare_total, strict=True))
    print(f"{'all':<10} {lines:>6} {lines / median(ours_total):>10,.0f} {lines / median(bare_total):>10,.0f}")
    print("ratio per round, sorted: " + " ".join(f"{r:.3f}" for r in ratios))
    print(f"ratio_vs_drain3={median(ratios):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
