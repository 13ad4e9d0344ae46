"""The automation cooldowns table: key = cooldown scope key (`<rule>`, `<rule>|host=<host>`,
`<rule>|issue=<issue key>`), value = a `streamapp.automations.decide.Claim` as its dict (JSON).

RocksDB-backed with a changelog topic, so a restarted or rebalanced worker still knows which
scopes are cooling down. Written only by the automations agent, from tasks keyed by the same scope
key, one at a time (the store picks the local partition from the event being processed). A claim
expires by its `until` (read with the injected clock), not by deletion: one small entry per
scope ever used, overwritten by the next action there."""

from __future__ import annotations

import faust

from streamapp.settings import Settings
from tables.store import ROCKSDB_OPTIONS


def cooldowns(app: faust.App, settings: Settings) -> faust.Table:
    return app.Table(
        "automation_cooldowns", key_type=str, value_type=None, partitions=settings.topic_partitions,  # JSON dicts
        store=settings.table_store, options=dict(ROCKSDB_OPTIONS),
        help="Automation cooldowns, per scope key.",
    )
