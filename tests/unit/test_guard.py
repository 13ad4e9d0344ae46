"""The one guard of agents and timers: every stage of the app goes through it, a failing record is
parked with the reason and the stage, and a poison record does not take its batch along."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from agents.guard import letter, run_guarded
from streamapp.settings import Settings
from streamapp.worker.app import create_app


def event(offset: int, value: Any) -> Any:
    message = SimpleNamespace(topic="t.issue_events", partition=2, offset=offset, value=f"raw {offset}".encode())
    return SimpleNamespace(message=message, value=value)


def test_every_agent_and_timer_of_the_app_goes_through_the_guard() -> None:
    app = create_app(Settings(table_store="memory://"))
    agents = {agent.name: agent.fun.__module__ for agent in app.agents.values()}
    assert len(agents) >= 8 and set(agents.values()) == {"agents.guard"}, agents
    timers = {task.__name__: task.__module__ for task in app._app_tasks}
    assert len(timers) >= 6 and set(timers.values()) == {"agents.guard"}, timers


class Stage:
    def __init__(self) -> None:
        self.handled: list[list[int]] = []
        self.parked: list[tuple[int, str]] = []

    async def handle(self, events: list[Any]) -> None:
        if any(e.value == "poison" for e in events):
            raise ValueError("cannot read this record")
        self.handled.append([e.message.offset for e in events])

    async def park(self, ev: Any, exc: BaseException) -> None:
        self.parked.append((ev.message.offset, str(exc)))


@pytest.mark.parametrize("retry_alone", [True, False])
async def test_a_poison_record_in_a_batch(retry_alone: bool) -> None:
    stage = Stage()
    batch = [event(10, "a"), event(11, "poison"), event(12, "b")]
    await run_guarded("consumer", batch, stage.handle, stage.park, retry_alone=retry_alone)
    if retry_alone:
        assert stage.handled == [[10], [12]] and stage.parked == [(11, "cannot read this record")]
    else:
        assert stage.handled == [] and [o for o, _ in stage.parked] == [10, 11, 12], "nothing dropped"
    await run_guarded("consumer", [event(13, "c")], stage.handle, stage.park, retry_alone=retry_alone)
    assert stage.handled[-1] == [13], "the stage goes on"


def test_a_dead_letter_names_the_record_the_reason_and_the_stage() -> None:
    ev = event(7, None)
    dl = letter("issues_aggregator", ev.message, "TypeError: bad group", 5.0, "lines:2")
    assert (dl.stage, dl.reason, dl.stream, dl.original_id, dl.payload) == (
        "issues_aggregator", "TypeError: bad group", "t.issue_events", "lines:2", "raw 7")
    assert dl.id == "issues_aggregator:t.issue_events/2/7", "stable: a replayed record parks nothing new"
