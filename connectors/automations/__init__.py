"""Automation providers (AWX, Terraform Cloud, ServiceNow) behind one small interface, the
bundle a worker owns (closed when the app stops), and the follower that polls launched jobs and
runs until they finish. Local doubles of all three live in `tests/doubles/automation.py`."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from mode import Service

from connectors.automations.awx import AWX
from connectors.automations.http import Sleep
from connectors.automations.servicenow import ServiceNow
from connectors.automations.terraform import Terraform
from streamapp.automations.config import AutomationConfig
from streamapp.errors import StreamAppError

log = logging.getLogger(__name__)


class Provider(Protocol):
    provider: str

    async def execute(self, action: dict[str, Any], correlation_id: str, *, look_first: bool = False) -> dict[str, Any]:
        """Carry out a rendered action; `look_first`: it may have been done already (find it)."""

    async def follow(self, response: dict[str, Any]) -> tuple[bool, dict[str, Any]] | None:
        """(finished?, status) of what `execute` started; None when there is nothing to follow."""

    async def aclose(self) -> None: ...


class Providers(Service):
    """The configured providers by action kind; a kind without one is not configured."""

    def __init__(self, by_kind: dict[str, Provider], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.by_kind = by_kind

    @classmethod
    def from_config(
        cls, config: AutomationConfig, *, transport: httpx.AsyncBaseTransport | None = None, sleep: Sleep | None = None,
    ) -> Providers:
        built = {
            "awx_job_template": AWX.from_config(config, transport=transport, sleep=sleep),
            "terraform_run": Terraform.from_config(config, transport=transport, sleep=sleep),
            "servicenow_incident": ServiceNow.from_config(config, transport=transport, sleep=sleep),
        }
        return cls({kind: p for kind, p in built.items() if p is not None})

    def get(self, kind: str) -> Provider | None:
        return self.by_kind.get(kind)

    async def on_stop(self) -> None:
        for provider in self.by_kind.values():
            await provider.aclose()


Done = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class _Follow:
    provider: Provider
    response: dict[str, Any]
    done: Done
    started: float
    last: dict[str, Any] = field(default_factory=dict)


class Follower(Service):
    """Polls what executed actions started until it finishes, or `max_sec` passes, then hands
    the last status to `done`. Follows live in memory: a restarted worker stops following."""

    def __init__(self, interval_sec: float, max_sec: float, clock: Callable[[], float] = time.monotonic,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.interval_sec, self.max_sec, self.clock = interval_sec, max_sec, clock
        self.pending: list[_Follow] = []

    def follow(self, provider: Provider, response: dict[str, Any], done: Done) -> None:
        self.pending.append(_Follow(provider, response, done, self.clock()))

    async def poll_once(self) -> None:
        for item in list(self.pending):
            elapsed = self.clock() - item.started
            try:
                state = await item.provider.follow(item.response)
            except (StreamAppError, httpx.HTTPError) as exc:  # keep trying until max_sec
                log.warning("automations: cannot poll %s %s: %s", item.provider.provider, item.response, exc)
                state = (False, item.last)
            if state is None:  # nothing to follow (an incident is done once opened)
                self.pending.remove(item)
                continue
            finished, item.last = state
            if finished or elapsed >= self.max_sec:
                self.pending.remove(item)
                await item.done({**item.last, "followed_sec": round(elapsed, 1), "gave_up": not finished})

    @Service.task
    async def _polling(self) -> None:
        while not self.should_stop:
            await self.poll_once()
            await self.sleep(self.interval_sec)
