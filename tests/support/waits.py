"""An injected `sleep` that records the waits a client chose instead of taking them: tests check how
long a client meant to wait, and between which two requests its double received, without a clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tests.doubles.serving import Scenarios

Sleep = Callable[[float], Awaitable[None]]


class Waits:
    """`await waits(seconds)` records `(seconds, requests the double had received by then)` in
    `taken` and returns at once; once `real_after()` is true it also waits for real with `real`
    (e.g. a service's own `sleep`, which its stop ends), so a loop the test is done with does not spin."""

    def __init__(self, double: Scenarios[Any], *, real: Sleep | None = None,
                 real_after: Callable[[], bool] = lambda: False) -> None:
        self.double, self.real, self.real_after = double, real, real_after
        self.taken: list[tuple[float, int]] = []

    async def __call__(self, seconds: float) -> None:
        self.taken.append((seconds, len(self.double.calls)))
        if self.real is not None and self.real_after():
            await self.real(seconds)
