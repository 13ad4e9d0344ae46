"""The open-issues table: key = aggregation key (os|host|component|pid), value = OpenIssue.

RocksDB-backed with a changelog topic, so a restarted or rebalanced worker recovers every open
issue. Written only by the issues aggregator, one event at a time (the store picks the local
partition from the event being processed)."""

from __future__ import annotations

import faust

from streamapp.issues import OpenIssue
from streamapp.settings import Settings
from tables.store import ROCKSDB_OPTIONS


def open_issues(app: faust.App, settings: Settings) -> faust.Table:
    return app.Table(
        "open_issues", key_type=str, value_type=OpenIssue, partitions=settings.topic_partitions,
        store=settings.table_store, options=dict(ROCKSDB_OPTIONS),
        help="Issues being built, per aggregation key.",
    )
