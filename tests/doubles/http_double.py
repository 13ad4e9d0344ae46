"""What the SaaS doubles (Datadog, Splunk, ThousandEyes) share: a Starlette app served by uvicorn on
a loopback port from a background thread, a scenario switch, a request log and a request budget.

    with SomeDouble() as double:
        double.url                          # base URL for the client
        double.scenario = "server_error"    # every request from now on
        double.enqueue("ok", "rate_limit")  # the next two requests, then `scenario` again
        double.calls                        # every request received, in order
        double.reset()                      # `ok`, nothing queued or logged, the fixed corpus again
"""

from __future__ import annotations

import asyncio
import collections
import socket
import threading
import time
from dataclasses import dataclass
from typing import ClassVar, Self

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route


@dataclass(frozen=True)
class Call:
    """One request as received, with the scenario picked for it; ``at`` is `time.time()`."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    scenario: str
    at: float


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


class HttpDouble:
    """A system's double; subclasses give `name`, `scenarios` and `routes()`, and restore their
    corpus in `reset()`. Scenarios every double has: `ok` and `slow` (answers after `slow_sec`)."""

    name: ClassVar[str]
    scenarios: ClassVar[frozenset[str]]
    # The system's own request budget (requests per period); tests lower it with `budget`.
    default_budget: ClassVar[tuple[int, float]]

    def __init__(self, *, slow_sec: float = 5.0, retry_after_sec: float = 1.0) -> None:
        self.slow_sec = slow_sec
        self.retry_after_sec = retry_after_sec  # what the `rate_limit` scenario tells clients to wait
        self.budget = Budget(*self.default_budget)
        self._scenario = "ok"
        self._queue: collections.deque[str] = collections.deque()
        self._calls: list[Call] = []
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # --- test-facing controls --------------------------------------------------------------------
    @property
    def scenario(self) -> str:
        return self._scenario

    @scenario.setter
    def scenario(self, name: str) -> None:
        self._scenario = self._known(name)

    def enqueue(self, *names: str) -> None:
        """Answer the next requests with these scenarios, one each, before `scenario` again."""
        self._queue.extend(self._known(n) for n in names)

    @property
    def calls(self) -> list[Call]:
        return list(self._calls)

    def reset(self) -> None:
        self._scenario = "ok"
        self._queue.clear()
        self._calls.clear()
        self.budget = Budget(*self.default_budget)

    def _known(self, name: str) -> str:
        if name not in self.scenarios:
            raise ValueError(f"{self.name} has no scenario {name!r}; it has {sorted(self.scenarios)}")
        return name

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> Self:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))  # bound before serving, so no other process can take the port
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(
            Starlette(routes=self.routes()), ws="none", log_config=None, log_level="warning", access_log=False,
            lifespan="off", timeout_graceful_shutdown=1,
        )
        self._server = server = uvicorn.Server(config)
        # Its own loop via asyncio.run: `Server.run` would install uvloop's policy for the whole process.
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True, name=f"{self.name}-double"
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the {self.name} double did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- for subclasses --------------------------------------------------------------------------
    def routes(self) -> list[Route]:  # pragma: no cover - each double lists its own
        raise NotImplementedError

    async def receive(self, request: Request) -> Call:
        """Log the request and pick its scenario (a queued one first); stall it if `slow`."""
        scenario = self._queue.popleft() if self._queue else self._scenario
        call = Call(request.method, request.url.path, dict(request.query_params), dict(request.headers),
                    await request.body(), scenario, time.time())
        self._calls.append(call)
        if scenario == "slow":
            await stall(request, self.slow_sec)
        return call


async def stall(request: Request, seconds: float) -> None:
    """Wait ``seconds``, or until the client hangs up (so a timed-out call does not hold the server)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not await request.is_disconnected():
        await asyncio.sleep(0.05)
