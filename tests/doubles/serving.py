"""What every local double of an HTTP system shares: serving its routes on a loopback port from a
thread of its own (`ServedApp`), and the scenario controls tests drive it with (`Scenarios`).

    class SomeDouble(Scenarios[Call], ServedApp):   # or Scenarios[its own record of a request]
        name = "some"
        scenarios = frozenset({"ok", "slow"})

        def routes(self) -> list[Route]: ...   # handlers pick a scenario with `_take()`, log with `_log()`

    with SomeDouble() as double:
        double.url                          # base URL for the client (`root_url` plus any API prefix)
        double.scenario = "slow"            # every request from now on
        double.enqueue("ok", "slow")        # the next two requests, then `scenario` again
        double.calls                        # every request received, in order
        double.abandoned                    # those the client hung up on while they were held
        double.reset()                      # `ok`, nothing queued or logged
"""

from __future__ import annotations

import asyncio
import collections
import socket
import threading
import time
from collections.abc import Sequence, Set
from dataclasses import dataclass
from typing import Any, Generic, Self, TypeVar

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import BaseRoute

C = TypeVar("C")


@dataclass(frozen=True)
class Call:
    """One request as received, with the scenario picked for it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    body: Any  # the raw bytes, or what the double parsed them into
    scenario: str


class ServedApp:
    """Serves `routes()` with uvicorn on a loopback port from a thread running its own event loop;
    a context manager, or `start()`/`stop()`. `root_url` is the server's address once started."""

    name: str = "double"  # names the thread, and the double in errors

    def __init__(self) -> None:
        self.root_url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL clients are given; doubles whose API lives under a prefix add it."""
        return self.root_url

    def routes(self) -> Sequence[BaseRoute]:  # pragma: no cover - each double declares its routes
        raise NotImplementedError

    def start(self) -> Self:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))  # bound before serving, so no other process can take the port
        # Small answers wait ~40 ms for delayed ACKs otherwise (<1 ms with it); accepted sockets inherit it,
        # and asyncio does not set it on them itself, as this socket's `proto` is 0, not IPPROTO_TCP.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.root_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(
            Starlette(routes=self.routes()), ws="none", log_config=None, log_level="warning", access_log=False,
            lifespan="off", timeout_graceful_shutdown=1,
        )
        self._server = server = uvicorn.Server(config)
        # Its own loop via asyncio.run: `Server.run` would install uvloop's policy for the whole process.
        self._thread = thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True, name=f"{self.name}-double"
        )
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                self.stop()
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


class Scenarios(Generic[C]):
    """A double's scenario switch and request log; `C` is its record of one request. A request is
    answered with the next `enqueue`d scenario if there is one, else with `scenario`; the names it
    knows are `scenarios`."""

    name: str
    scenarios: Set[str]

    def __init__(self) -> None:
        super().__init__()
        self._scenario = "ok"
        self._queue: collections.deque[str] = collections.deque()
        self._calls: list[C] = []
        self._abandoned: list[C] = []
        self._lock = threading.Lock()  # the server thread logs while the test reads

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
    def calls(self) -> list[C]:
        """Every request received so far, in order (a copy)."""
        with self._lock:
            return list(self._calls)

    @property
    def abandoned(self) -> list[C]:
        """The requests whose client hung up while they were held (`_stall`), before any answer."""
        with self._lock:
            return list(self._abandoned)

    def reset(self) -> None:
        """Back to `ok`, with no queued scenarios and no calls logged."""
        self._scenario = "ok"
        self._queue.clear()
        with self._lock:
            self._calls.clear()
            self._abandoned.clear()

    def _known(self, name: str) -> str:
        if name not in self.scenarios:
            raise ValueError(f"{self.name} has no scenario {name!r}; it has {sorted(self.scenarios)}")
        return name

    def _take(self) -> str:
        """The scenario of the request being received: the next queued one, else `scenario`."""
        return self._queue.popleft() if self._queue else self._scenario

    def _log(self, call: C) -> C:
        with self._lock:
            self._calls.append(call)
        return call

    async def _stall(self, request: Request, call: C, seconds: float) -> None:
        """Hold the answer to `call` for ``seconds``; a client giving up first goes to `abandoned`."""
        if await stall(request, seconds):
            with self._lock:
                self._abandoned.append(call)


async def stall(request: Request, seconds: float) -> bool:
    """Wait ``seconds``, or until the client hangs up (so a timed-out call does not hold the server);
    True when the client hung up before the wait was over."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await request.is_disconnected():
            return True
        await asyncio.sleep(0.05)
    return False
