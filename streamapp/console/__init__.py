"""The operator console: server-rendered pages on the Starlette API, mounted at `/console`.

    /console/login, /console/logout              `pages_auth`: the admin token -> a signed session cookie
    /console/alerts[/{id}[/feedback|/persist]]   `pages_alerts`
    /console/issues, /console/prototypes[/...]   `pages_pipeline`: the worker's tables, candidates, a chart
    /console/patterns                            `pages_patterns`: new, rising and falling templates
    /console/sources[/{id}/enable|disable]       `pages_admin`
    /console/toggles                             `pages_admin`
    /console/static/...                          CSS and the one small script (no CDN, no build step)

Every page needs the login; every form carries the session's CSRF token; every value is rendered
by Jinja2 with autoescape on (log text is attacker-controlled), and answers carry a strict CSP.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from streamapp.console import pages_admin, pages_alerts, pages_auth, pages_patterns, pages_pipeline
from streamapp.console.web import PREFIX, STATIC, base_path, redirect


async def home(request: Request) -> Response:
    return redirect(f"{base_path(request)}/alerts")


routes: list[BaseRoute] = [
    Route("/", home, methods=["GET"]),
    Route("/login", pages_auth.login_form, methods=["GET"]),
    Route("/login", pages_auth.login, methods=["POST"]),
    Route("/logout", pages_auth.logout, methods=["POST"]),
    Route("/alerts", pages_alerts.alerts, methods=["GET"]),
    Route("/alerts/{id}", pages_alerts.alert, methods=["GET"]),
    Route("/alerts/{id}/feedback", pages_alerts.feedback, methods=["POST"]),
    Route("/alerts/{id}/persist", pages_alerts.persist, methods=["POST"]),
    Route("/issues", pages_pipeline.issues, methods=["GET"]),
    Route("/prototypes", pages_pipeline.prototypes, methods=["GET"]),
    Route("/prototypes/{os}/{id}", pages_pipeline.prototype, methods=["GET"]),
    Route("/patterns", pages_patterns.patterns, methods=["GET"]),
    Route("/sources", pages_admin.sources, methods=["GET"]),
    Route("/sources/{id}/enable", pages_admin.enable_source, methods=["POST"]),
    Route("/sources/{id}/disable", pages_admin.disable_source, methods=["POST"]),
    Route("/toggles", pages_admin.toggles, methods=["GET"]),
    Route("/toggles", pages_admin.set_toggle, methods=["POST"]),
    Mount("/static", app=StaticFiles(directory=STATIC), name="console_static"),
]


def mount() -> Mount:
    """The console for `create_api`: `Mount('/console', routes=...)`."""
    return Mount(PREFIX, routes=routes)


__all__ = ["PREFIX", "mount", "routes"]
