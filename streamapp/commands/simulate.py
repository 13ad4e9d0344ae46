"""`streamapp simulate`: simulated traffic with injected incidents (see `streamapp.simulate`),
written to the Redis stream `logs` in real time or as fast as possible, or to log files for the
file tail producer; the ground truth (incidents and their line ids) goes to a JSON file."""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import redis

from streamapp.commands.feeding import feed
from streamapp.settings import get_settings
from streamapp.simulate import SOURCE_FORMATS, Scenario


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="write simulated traffic with injected incidents")
    p.add_argument("--duration", type=float, default=60.0, help="seconds of traffic")
    p.add_argument("--rate", type=float, default=40.0, help="routine lines per second")
    p.add_argument("--incidents", type=int, default=10)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--fast", action="store_true", help="write as fast as possible instead of in real time")
    p.add_argument("--files", type=Path, help="write one log file per host into this folder instead of Redis")
    p.add_argument("--truth", type=Path, help="write the ground truth (incidents, their line ids) here as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    scenario = Scenario(duration=args.duration, rate=args.rate, incidents=args.incidents, seed=args.seed,
                        start=datetime.now(UTC))
    lines = list(scenario.lines())
    truth: dict[str, list[str]] = defaultdict(list)
    if args.files:
        args.files.mkdir(parents=True, exist_ok=True)
        for n, x in enumerate(lines):
            with (args.files / f"{x.source.split(':')[-1]}.log").open("a") as f:
                f.write(x.line + "\n")
            if x.incident:
                truth[x.incident].append(f"{x.source}#{n}")
    else:
        settings = get_settings()
        client = redis.Redis.from_url(settings.redis_url)
        items = ((0.0 if args.fast else x.at, x.source, x.line) for x in lines)
        ids = feed(client, settings, items, len(lines), lambda: None)
        for n, x in enumerate(lines):
            if x.incident:
                truth[x.incident].append(ids[n])
    if args.truth:
        args.truth.write_text(json.dumps({
            "source_formats": SOURCE_FORMATS, "lines": len(lines),
            "incidents": [
                {"id": i.id, "failure_type": str(i.failure_type), "host": i.host, "line_ids": truth[i.id]}
                for i in scenario.incidents
            ],
        }, indent=1))
    print(f"{len(lines)} lines, {len(scenario.incidents)} incidents", f"(truth in {args.truth})" if args.truth else "")
    return 0
