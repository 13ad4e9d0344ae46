"""`streamapp templates bootstrap --os linux FILE...`: mine log files offline and load their
templates into `templates_<os>` (with counts, level distribution, sample lines and the offline
classifier's failure type), so a new deployment starts with known templates to compare against."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import Counter, defaultdict
from pathlib import Path

from connectors.embedders import embedder_from_settings
from connectors.vectorstore import ChromaVectorStore
from streamapp.classify import OfflineClassifier
from streamapp.commands.logfile import line_format, mine, read_lines
from streamapp.rules import RuleSet
from streamapp.settings import get_settings
from streamapp.sources import profile_from_spec
from streamapp.taxonomy import header_severity
from streamapp.vector_schema import Metadata, template_metadata

SAMPLES = 3


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("templates", help="manage the known templates of an OS")
    verbs = p.add_subparsers(dest="verb", required=True)
    b = verbs.add_parser("bootstrap", help="mine files and load their templates into templates_<os>")
    b.add_argument("--os", required=True, help="the OS whose collection receives the templates (e.g. linux)")
    b.add_argument("--format", help="line format (default: the OS's preset)")
    b.add_argument("files", nargs="+", type=Path)
    b.add_argument("--no-progress", action="store_true")
    b.set_defaults(func=bootstrap, message_keys=None)


def bootstrap(args: argparse.Namespace) -> int:
    args.format = args.format or args.os
    fmt = line_format(args)
    profile_from_spec(args.format)  # fails early, naming the format, if it is unknown
    settings = get_settings()
    classifier = OfflineClassifier(RuleSet.load(settings.rules_path))
    counts: Counter[str] = Counter()
    texts: dict[str, str] = {}
    levels: dict[str, Counter[str]] = defaultdict(Counter)
    samples: dict[str, list[str]] = defaultdict(list)
    for path in args.files:
        miner, stats = mine(path, fmt, progress=not args.no_progress)
        print(f"{path}: {stats.summary()}")
        for parsed in read_lines(path, fmt):
            result = miner.match(parsed.message)
            if result is None or result.template_id is None:
                continue
            tid = result.template_id
            counts[tid] += 1
            texts[tid] = result.template
            levels[tid][(parsed.level or "").lower() or "unknown"] += 1
            if len(samples[tid]) < SAMPLES:
                samples[tid].append(parsed.message[:300])
    ids = sorted(counts)
    if not ids:
        print("no templates found")
        return 1
    embedder = embedder_from_settings(settings)
    vectors = asyncio.run(embedder.embed([texts[t] for t in ids]))
    metas: list[Metadata] = []
    for tid in ids:
        stated = [lv for lv, _ in levels[tid].most_common() if header_severity(lv)]
        verdict = classifier.classify_line(texts[tid], level=stated[0] if stated else "")
        metas.append(template_metadata(
            tid, "bootstrap", count=counts[tid], levels=json.dumps(dict(levels[tid])),
            samples=json.dumps(samples[tid]), failure_type=str(verdict.failure_type), severity=str(verdict.severity),
        ))
    store = ChromaVectorStore.from_settings(settings, embedder=embedder.name)
    try:
        store.upsert("templates", args.os, ids, vectors, metadatas=metas, documents=[texts[t] for t in ids])
        print(f"{len(ids)} templates loaded into templates_{args.os} ({store.count('templates', args.os)} stored)")
    finally:
        store.close()
    return 0
