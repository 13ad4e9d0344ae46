"""The open-issues table: key = aggregation key (os|host|component|pid), value = an OpenIssue as
its dict (JSON; `OpenIssue.from_dict` reads it back).

RocksDB-backed with a changelog topic, so a restarted or rebalanced worker recovers every open
issue. Written only by the issues aggregator, at each offset commit (the store picks the local
partition from the event it names): the table, and the `/issues/` views reading it, lag the
aggregator by up to one commit interval (Faust's `broker_commit_interval`, 2.8 s)."""

from __future__ import annotations

import faust

from streamapp.settings import Settings
from tables.store import ROCKSDB_OPTIONS


def open_issues(app: faust.App, settings: Settings) -> faust.Table:
    return app.Table(
        "open_issues", key_type=str, value_type=None, partitions=settings.topic_partitions,  # JSON dicts
        store=settings.table_store, options=dict(ROCKSDB_OPTIONS),
        help="Issues being built, per aggregation key.",
    )
