"""Failed token attempts are limited per client address (admin API, console login), and the admin
token must be long: guessing it costs a window per few guesses, and there is much to guess."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from streamapp.api.app import create_api
from streamapp.auth import FailureLimiter
from streamapp.clock import ManualClock
from streamapp.errors import ConfigError
from streamapp.settings import load_settings

TOKEN = "throttle-unit-token-0123456789abcdef"


def test_the_limiter_refuses_an_address_for_the_rest_of_its_window() -> None:
    clock = ManualClock()
    limiter = FailureLimiter(3, 60, clock, max_clients=2)
    for _ in range(3):
        assert limiter.wait_sec("a") == 0
        limiter.failed("a")
        clock.advance(10)
    assert limiter.wait_sec("a") == 30 and limiter.wait_sec("b") == 0
    clock.advance(30)
    assert limiter.wait_sec("a") == 0, "the oldest failure left the window"
    limiter.failed("b")
    limiter.failed("c")
    assert limiter.forgotten == 1, "bounded: the least recent address is forgotten, and counted"


def test_a_short_admin_token_is_refused() -> None:
    with pytest.raises(ConfigError, match="ADMIN_TOKEN.*32 characters") as caught:
        load_settings(admin_token="short-admin-token")
    assert "short-admin-token" not in str(caught.value), "a secret is not echoed"


def client_for(app: object, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 4000)),  # type: ignore[arg-type]
                             base_url="http://testserver")


@pytest.fixture
async def app() -> AsyncIterator[object]:
    api = create_api(load_settings(admin_token=TOKEN, auth_max_failures=5, stream_prefix="throttle-unit."), probes={})
    yield api
    await api.state.alerts.aclose()


async def test_wrong_bearer_tokens_lock_out_their_address_only(app: object) -> None:
    async with client_for(app, "10.0.0.1") as guesser, client_for(app, "10.0.0.2") as other:
        for i in range(5):
            r = await guesser.get("/sources", headers={"Authorization": f"Bearer guess-{i}"})
            assert r.status_code == 401
        r = await guesser.get("/sources", headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0, "not even the right token now"
        assert (await other.get("/sources", headers={"Authorization": "Bearer x"})).status_code == 401


async def test_wrong_console_logins_lock_out_their_address(app: object) -> None:
    async with client_for(app, "10.0.0.3") as http:
        for i in range(6):
            form = await http.get("/console/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert csrf
            token = f"guess-{i}" if i < 5 else TOKEN
            r = await http.post("/console/login", data={"csrf": csrf[1], "token": token, "next": ""})
            assert r.status_code == (401 if i < 5 else 429), (i, r.status_code)
    assert "Too many failed logins" in r.text and int(r.headers["Retry-After"]) > 0
