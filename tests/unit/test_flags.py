"""Every stage obeys its ENABLE_* flag: a disabled stage registers no agent, table or timer."""

from __future__ import annotations

import pytest

from streamapp.settings import Settings
from streamapp.worker.app import create_app

STAGES = {
    "enable_consumer": ({"consumer"}, set()),
    "enable_issues_aggregator": ({"issues_aggregator"}, {"open_issues"}),
    "enable_clustering": ({"clustering", "prototype_commands"}, {"prototypes"}),
    "enable_enricher": ({"enricher"}, set()),
    "enable_cluster_enricher": ({"cluster_enricher"}, set()),
    "enable_patterns": ({"patterns"}, {"patterns"}),
}


def timers(app) -> set[str]:  # type: ignore[no-untyped-def]
    """Names of the app's timers (Faust keeps the wrapped function's name)."""
    return {t.__name__ for t in app._app_tasks}


def agents_and_tables(**flags: bool) -> tuple[set[str], set[str]]:
    app = create_app(Settings(table_store="memory://", **flags))
    return {a.name for a in app.agents.values()}, set(app.tables.keys())


def test_everything_on_by_default() -> None:
    agents, tables = agents_and_tables()
    for names, tbls in STAGES.values():
        assert names <= agents and tbls <= tables


@pytest.mark.parametrize("flag", sorted(STAGES))
def test_a_disabled_stage_starts_nothing(flag: str) -> None:
    agents, tables = agents_and_tables(**{flag: False})
    names, tbls = STAGES[flag]
    assert not names & agents, f"{flag}=false still registers {names & agents}"
    assert not tbls & tables


def test_improver_and_bridges_follow_their_flags() -> None:
    on = create_app(Settings(table_store="memory://"))
    off = create_app(Settings(table_store="memory://", enable_prototype_improver=False, enable_bridge=False))
    assert "prototype_improver" in timers(on) and "prototype_improver" not in timers(off)
    assert len(on._extra_services) > len(off._extra_services)


def test_the_replication_factor_reaches_faust() -> None:
    """Faust declares table changelogs and its internal topics with `topic_replication_factor`."""
    app = create_app(Settings(table_store="memory://", topic_replication_factor=3))
    assert app.conf.topic_replication_factor == 3
