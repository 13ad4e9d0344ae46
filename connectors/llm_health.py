"""Whether the LLM is usable, checked at start and then periodically, so `/readyz` can report it
without calling out (and without waiting for a slow LLM)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from mode import Service

from connectors.llm import LLMConnector


@dataclass(frozen=True)
class LLMStatus:
    """`disabled` (LLM_PROVIDER=none), `unknown` (not checked yet), `reachable` or `unavailable`;
    ``detail`` says why; ``checked_at`` is wall-clock seconds of the last check."""

    state: Literal["disabled", "unknown", "reachable", "unavailable"]
    detail: str
    checked_at: float | None = None

    @property
    def ok(self) -> bool:
        """A disabled LLM is fine: the offline classifier answers instead."""
        return self.state in ("disabled", "reachable")

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "state": self.state, "detail": self.detail, "checked_at": self.checked_at}


class LLMHealth(Service):
    """Runs `LLMConnector.health()` at start and every ``interval_sec``; ``status`` is the last result."""

    def __init__(
        self,
        llm: LLMConnector | None,
        *,
        interval_sec: float = 30.0,
        clock: Callable[[], float] = time.time,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.llm = llm
        self.interval_sec = interval_sec
        self._clock = clock
        self.status = (
            LLMStatus("disabled", "LLM_PROVIDER=none") if llm is None else LLMStatus("unknown", "not checked yet")
        )

    async def on_start(self) -> None:
        await self.check()

    @Service.task
    async def _poll(self) -> None:
        while self.llm is not None and not self.should_stop:
            await self.sleep(self.interval_sec)
            if not self.should_stop:
                await self.check()

    async def check(self) -> LLMStatus:
        """Check now, remember and return the result (never raises)."""
        if self.llm is None:
            return self.status
        ok, detail = await self.llm.health()
        self.status = LLMStatus("reachable" if ok else "unavailable", detail, self._clock())
        return self.status
