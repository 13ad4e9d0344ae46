"""Browser fixtures: Debian's Chromium driven by Playwright (the Python package; its bundled driver,
never a downloaded browser), the API as users start it, and where screenshots go.

Chromium runs headless on loopback only: the flags keep it from reaching for the network (updates,
sync, safe browsing), and Playwright gives each launch a fresh, empty profile."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from streamapp.processes import BIN, Proc, free_port
from tests.conftest import IN_CI, REPO

CHROMIUM = Path(os.environ.get("STREAMAPP_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions",
    "--no-default-browser-check", "--disable-dev-shm-usage",
]
ADMIN_TOKEN = "console-test-" + uuid.uuid4().hex
SCREENSHOTS = REPO / "artifacts" / "screenshots"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Debian's Chromium with Playwright (tests/browser)")


def _require_browser() -> None:
    problem = ""
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} not found (apt-get install chromium)"
    else:
        try:
            import playwright.async_api  # noqa: F401
        except ImportError:
            problem = "the Python package playwright is not installed"
    if problem:
        if IN_CI:
            pytest.fail(problem + "; CI must have it")
        pytest.skip(problem)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    _require_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """`artifacts/screenshots/` (git-ignored), emptied once per run."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


async def shot(page: Any, name: str) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def base_env(tmp: Path) -> dict[str, str]:
    """An isolated namespace, like tests.support.fixtures.env, with the admin token set."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    return {
        "STREAMAPP_ID": f"{prefix}app", "TOPIC_PREFIX": prefix, "STREAM_PREFIX": prefix,
        "DATABASE_SCHEMA": prefix.rstrip("."), "DATA_DIR": str(tmp / "worker"), "CHROMA_PATH": str(tmp / "chroma"),
        "WEB_PORT": str(free_port()), "API_PORT": str(free_port()), "BRIDGE_CLAIM_IDLE_MS": "1500",
        "BRIDGE_TRIM_INTERVAL_SEC": "1", "ADMIN_TOKEN": ADMIN_TOKEN,
    }


@dataclass
class Api:
    proc: Proc
    url: str  # http://127.0.0.1:<port>/console


def start_api(env: dict[str, str], log: Path) -> Api:
    proc = Proc([str(BIN / "streamapp"), "api"], env, log, "Uvicorn running")
    proc.wait_ready()
    return Api(proc, f"http://127.0.0.1:{env['API_PORT']}/console")


async def login_page(browser: Any, console: str, *, bypass_csp: bool = False) -> Any:
    """A new browser context logged in through the form; returns its page."""
    context = await browser.new_context(viewport={"width": 1360, "height": 900}, bypass_csp=bypass_csp)
    page = await context.new_page()
    await page.goto(f"{console}/login")
    await page.fill("#token", ADMIN_TOKEN)
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r".*/console/alerts.*"))
    return page


async def http_login(http: httpx.AsyncClient, console: str) -> None:
    """Log an httpx client in through the form (cookies stay in the client)."""
    form = await http.get(f"{console}/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf, form.text
    answer = await http.post(f"{console}/login", data={"csrf": csrf[1], "token": ADMIN_TOKEN, "next": ""})
    assert answer.status_code == 303, answer.text
