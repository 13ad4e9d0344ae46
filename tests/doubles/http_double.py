"""What the SaaS doubles (Datadog, Splunk, ThousandEyes) share beyond serving and scenarios
(`tests/doubles/serving.py`): request logging, the `slow` scenario and a request budget.

    with SomeDouble() as double:
        double.url                          # base URL for the client
        double.scenario = "server_error"    # every request from now on
        double.enqueue("ok", "rate_limit")  # the next two requests, then `scenario` again
        double.calls                        # every request received, in order
        double.reset()                      # `ok`, nothing queued or logged, the fixed corpus again
"""

from __future__ import annotations

from typing import ClassVar

from starlette.requests import Request

from tests.doubles.serving import Call, Scenarios, ServedApp


class Budget:
    """A fixed-window request budget: `limit` requests per `period_sec`, windows aligned to the
    epoch (Datadog's periods are calendar-aligned; ThousandEyes counts per minute)."""

    def __init__(self, limit: int, period_sec: float) -> None:
        self.limit, self.period_sec = limit, period_sec
        self.start, self.used = 0.0, 0

    def take(self, now: float) -> tuple[bool, int, float]:
        """Spend one request: (allowed, remaining, epoch time the window resets)."""
        start = now - now % self.period_sec
        if start != self.start:
            self.start, self.used = start, 0
        self.used += 1
        return self.used <= self.limit, max(self.limit - self.used, 0), start + self.period_sec


class HttpDouble(Scenarios[Call], ServedApp):
    """A system's double; subclasses give `name`, `scenarios` and `routes()`, and restore their
    corpus in `reset()`. Scenarios every double has: `ok` and `slow` (answers after `slow_sec`,
    unless the client hangs up first: then the call is in `abandoned`)."""

    # The system's own request budget (requests per period); tests lower it with `budget`.
    default_budget: ClassVar[tuple[int, float]]

    def __init__(self, *, slow_sec: float = 5.0, retry_after_sec: float = 1.0) -> None:
        super().__init__()
        self.slow_sec = slow_sec
        self.retry_after_sec = retry_after_sec  # what the `rate_limit` scenario tells clients to wait
        self.budget = Budget(*self.default_budget)

    def reset(self) -> None:
        """Back to `ok`, nothing queued or logged, a fresh budget."""
        super().reset()
        self.budget = Budget(*self.default_budget)

    async def receive(self, request: Request) -> Call:
        """Log the request and pick its scenario (a queued one first); stall it if `slow`."""
        scenario = self._take()
        call = self._log(Call(request.method, request.url.path, dict(request.query_params), dict(request.headers),
                              await request.body(), scenario))
        if scenario == "slow":
            await self._stall(request, call, self.slow_sec)
        return call
