"""The worker's table views (`streamapp.worker.views`), fetched server-side with the admin token: open
issues and prototypes live in the worker's tables, not on Redis. A worker that does not answer is
a message on the page, never an error of the page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from streamapp.settings import Settings

TIMEOUT = httpx.Timeout(3.0, connect=1.0)  # a page waits at most this for the worker


def worker_url(settings: Settings) -> str:
    """WORKER_URL (proposed setting: the worker's web base URL), until it is declared the local
    worker on WEB_PORT."""
    configured = settings.worker_url
    return (configured or f"http://127.0.0.1:{settings.web_port}").rstrip("/")


@dataclass(frozen=True)
class WorkerAnswer:
    """The JSON body, or why there is none."""

    data: Any = None
    error: str = ""


async def worker_get(settings: Settings, path: str, params: dict[str, Any] | None = None) -> WorkerAnswer:
    url = worker_url(settings) + path
    headers = {"Authorization": f"Bearer {settings.admin_token.get_secret_value()}"}
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT, trust_env=False, follow_redirects=False) as http:
            answer = await http.get(url, params=params, headers=headers)
    except httpx.HTTPError as exc:
        return WorkerAnswer(error=f"the worker at {worker_url(settings)} did not answer ({type(exc).__name__})")
    if answer.status_code == 404:
        return WorkerAnswer(error="not found on the worker (closed, purged, or owned by another worker)")
    if answer.status_code != 200:
        return WorkerAnswer(error=f"the worker answered HTTP {answer.status_code}")
    try:
        return WorkerAnswer(data=answer.json())
    except ValueError:
        return WorkerAnswer(error="the worker's answer is not JSON")
