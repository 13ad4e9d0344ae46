"""`streamapp deadletters list|replay`: what was dead-lettered and why; re-inject entries whose
cause is fixed (e.g. after raising BRIDGE_MAX_ENTRY_BYTES)."""

from __future__ import annotations

import argparse
import asyncio

from connectors.deadletters import DeadLetters
from connectors.redis_streams import connect
from streamapp.settings import get_settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("deadletters", help="list dead letters, or replay fixed ones")
    verbs = p.add_subparsers(dest="verb", required=True)
    ls = verbs.add_parser("list", help="newest first, with reasons")
    ls.add_argument("--limit", type=int, default=50)
    ls.set_defaults(func=run)
    rp = verbs.add_parser("replay", help="re-inject dead letters of `logs` whose original entry still exists")
    rp.add_argument("ids", nargs="*", help="dead-letter entry ids (see `list`)")
    rp.add_argument("--all", action="store_true", help="every dead letter not replayed yet")
    rp.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    settings = get_settings()
    client = connect(settings)
    letters = DeadLetters(client, settings)
    try:
        if args.verb == "list":
            items, _ = await letters.page(None, args.limit)
            for it in items:
                mark = " (replayed)" if it["replayed"] else ""
                print(f"{it['entry_id']}  {it['stream']}:{it['original_id']}  {it['reason']}{mark}")
            return 0
        ids = await letters.all_ids() if args.all else args.ids
        if not ids:
            print("nothing to replay (give ids or --all)")
            return 2
        outcomes = await letters.replay(ids)
        for o in outcomes:
            print(f"{o.letter_id}: {o.result}")
        return 0 if all(o.result in ("replayed", "already replayed") for o in outcomes) or args.all else 1
    finally:
        await client.aclose()
