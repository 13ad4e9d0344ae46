"""Embedding throughput: the semantic embedder (WordLlama, the default) against the hashed one, same lines.

The lines are the Loghub-2k messages (header cut by each system's format), 24,000 in all, embedded in
`streamapp mine`-sized batches; each embedder runs once untimed and `--repeat` times timed, best run
counts. The pipeline embeds each distinct template once (then from its cache), so this is an upper
bound of the embedding work per line.

    .venv/bin/python bench/embed_bench.py [--data <shared>/data/loghub-2k] [--repeat 3]

The last line is `semantic_lines_per_sec=<x>`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from mine_bench import best_seconds

from streamapp.commands.mine import BATCH, read_messages
from streamapp.embedding import HashedTfidfEmbedder, LocalEmbedder, semantic_embedder
from streamapp.parsing import LineFormat

DEFAULT_DATA = Path(os.environ.get("STREAMAPP_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))


def best_rate(embedder: LocalEmbedder, texts: list[str], repeat: int) -> float:
    """Lines per second of the best of `repeat` timed runs (after one untimed run)."""

    def run(batch: list[str]) -> None:
        for i in range(0, len(batch), BATCH):
            embedder.vectors(batch[i : i + BATCH])

    return len(texts) / best_seconds(run, texts, repeat)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA / "data" / "loghub-2k")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    formats = json.loads((args.data / "formats.json").read_text(encoding="utf-8"))
    lines: list[str] = []
    for system, spec in formats.items():
        path = args.data / system / f"{system}_2k.log"
        if not system.startswith("_") and path.exists():
            lines += read_messages(path, LineFormat.from_spec(spec))
    if not lines:
        print(f"no Loghub samples under {args.data}", file=sys.stderr)
        return 1
    distinct = list(dict.fromkeys(lines))
    embedders: dict[str, LocalEmbedder] = {"semantic": semantic_embedder(), "hashed": HashedTfidfEmbedder(256)}
    print(f"{len(lines)} lines, {len(distinct)} distinct; batches of {BATCH}; best of {args.repeat}")
    rates = {}
    for name, embedder in embedders.items():
        rates[name] = best_rate(embedder, lines, args.repeat)
        print(f"{name:<9} {embedder.name:<28} {rates[name]:>10,.0f} lines/s")
    print(f"semantic/hashed ratio {rates['semantic'] / rates['hashed']:.2f} (measured side by side, this run)")
    print(f"semantic_lines_per_sec={rates['semantic']:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
