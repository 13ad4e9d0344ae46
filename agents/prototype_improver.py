"""Prototype improver: periodically turns operators' feedback (the Redis stream `feedback`, read
through the consumer group `prototype_improver`) into prototype labels.

Order, so a crash anywhere loses nothing and repeats nothing harmful: read feedback, hand it to the
agent that owns the OS's prototypes (a keyed command, awaited until the broker has it), then XACK.
A crash before the XACK leaves the entries pending; they are reclaimed and sent again, and applying
the same feedback twice sets the same labels.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from agents.guard import guarded_timer
from streamapp.errors import TransientError
from streamapp.records import PrototypeCommand
from streamapp.worker.deps import Deps

log = logging.getLogger(__name__)

GROUP = "prototype_improver"
BATCH = 500


class Improver:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        s = deps.settings
        self.feedback = deps.group_reader(s.stream_feedback, GROUP, f"improver-{s.bridge_consumer}", count=BATCH)
        self.applied = 0

    async def run_once(self) -> int:
        """One improver run; returns the feedback entries handed on."""
        await self.feedback.ensure()
        claimed = await self.feedback.claim(int(self.deps.settings.prototype_improver_claim_idle_sec * 1000))
        entries = claimed + await self.feedback.read()
        if not entries:
            return 0
        by_os: dict[str, list[dict]] = defaultdict(list)
        for _, fields in entries:
            item = {k.decode(): v.decode("utf-8", "replace") for k, v in fields.items()}
            by_os[item.get("os", "")].append(item)
        now = self.deps.clock.now()
        for os_name, items in by_os.items():
            cmd = PrototypeCommand(kind="feedback", os=os_name, items=items, at=now)
            delivered = await self.deps.topics.prototype_commands.send(key=os_name, value=cmd)
            await delivered  # the broker has it; only now may the feedback be acknowledged
        await self.feedback.ack([eid for eid, _ in entries])
        self.applied += len(entries)
        return len(entries)


def register(deps: Deps) -> Improver:
    improver = Improver(deps)

    async def improve() -> None:
        try:
            await improver.run_once()
        except (TransientError, OSError) as exc:
            log.warning("prototype improver: skipped this run (%s)", exc)

    guarded_timer(deps, deps.settings.prototype_improver_interval_sec, "prototype_improver", improve)
    return improver
