"""The prototypes table: key = prototype id, value = Prototype (the source of truth; `proto_<os>`
in Chroma is a mirror for retrieval). Written only by the clustering agent, whose input is keyed
by OS, so all prototypes of one OS live in one partition and are updated in order."""

from __future__ import annotations

import faust

from streamapp.clustering import Prototype
from streamapp.settings import Settings
from tables.store import ROCKSDB_OPTIONS


def prototypes(app: faust.App, settings: Settings) -> faust.Table:
    return app.Table(
        "prototypes", key_type=str, value_type=Prototype, partitions=settings.topic_partitions,
        store=settings.table_store, options=dict(ROCKSDB_OPTIONS),
        help="Clusters of similar issues.",
    )
