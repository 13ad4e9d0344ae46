"""Logging out of the console ends the session on the server (Redis), not only in the browser: a
copy of the cookie taken before is refused after; and the worker serves no `/router/` layout."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from streamapp.console.session import COOKIE
from streamapp.processes import start_worker
from streamapp.settings import Settings
from tests.support.api import api_client

pytestmark = pytest.mark.integration
TOKEN = "console-logout-token-0123456789abcdef"


async def test_a_logged_out_session_is_refused_even_with_a_copy_of_its_cookie(settings: Settings) -> None:
    async with api_client(settings.model_copy(update={"admin_token": SecretStr(TOKEN)})) as api:
        form = await api.get("/console/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf
        logged_in = await api.post("/console/login", data={"csrf": csrf[1], "token": TOKEN, "next": ""})
        assert logged_in.status_code == 303
        stolen = api.cookies[COOKIE]
        assert (await api.get("/console/alerts")).status_code == 200
        page = await api.get("/console/alerts")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf
        out = await api.post("/console/logout", data={"csrf": csrf[1]}, headers={"Origin": "http://api"})
        assert out.status_code == 303
        api.cookies.set(COOKIE, stolen)
        again = await api.get("/console/alerts")
    assert again.status_code == 303 and "/console/login" in again.headers["location"]


async def test_the_worker_serves_no_router_layout(env: dict[str, str], tmp_path: Path) -> None:
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{env['WEB_PORT']}", timeout=10) as web:
            assert (await web.get("/router/")).status_code == 404
    finally:
        assert worker.terminate() == 0, worker.output()[-3000:]
