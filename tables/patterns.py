"""The patterns table: per OS, its book and the counts over time of each of its templates (and the
family marks novelty checks), as JSON dicts (`streamapp.patterns`: keys `<os>\\x00book`,
`<os>\\x00t\\x00<template id>`, `<os>\\x00f\\x00<family>`).

Written only by the patterns agent, whose input is keyed by OS: every entry of an OS lives in the
changelog partition of that OS and is updated in order. Bounded per OS by PATTERN_MAX_TEMPLATES."""

from __future__ import annotations

import faust

from streamapp.settings import Settings
from tables.store import ROCKSDB_OPTIONS


def patterns(app: faust.App, settings: Settings) -> faust.Table:
    return app.Table(
        "patterns", key_type=str, value_type=None, partitions=settings.topic_partitions,  # JSON dicts
        store=settings.table_store, options=dict(ROCKSDB_OPTIONS),
        help="Template counts per OS and host over time.",
    )
