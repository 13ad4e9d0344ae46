"""What every console page shares: the Jinja2 environment (autoescape on, always), the login and
CSRF guard, form reading with a size limit, and the security headers of every answer."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

import jinja2
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from streamapp.api.bodies import BodyTooLarge, capped_body
from streamapp.console.session import COOKIE, Session, SessionCodec, csrf_ok, session_id
from streamapp.errors import TransientError
from streamapp.settings import Settings

log = logging.getLogger(__name__)

PREFIX = "/console"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static" / "console"
MAX_FORM_BYTES = 16 * 1024
# Escaping is the defence; the policy is the second line: no inline script, nothing from elsewhere.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

Handler = Callable[[Request], Awaitable[Response]]


def _timestamp(value: Any) -> str:
    """Epoch seconds (or a stream entry id) as UTC text; the value itself when it is neither."""
    if value is None or value == "":
        return ""
    try:
        seconds = float(str(value).split("-")[0]) / (1000 if "-" in str(value) else 1)
    except ValueError:
        return str(value)
    if seconds <= 0:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))


ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined,
    trim_blocks=True, lstrip_blocks=True,
)
ENV.filters["ts"] = _timestamp
ENV.filters["path"] = lambda value: quote(str(value), safe="")  # one URL path segment


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def codec_of(request: Request) -> SessionCodec | None:
    """The session codec for the configured admin token (kept while the token stays the same)."""
    state = request.app.state
    token = settings_of(request).admin_token
    cached = getattr(state, "console_codec", None)
    if cached is None or cached[0] != token.get_secret_value():
        state.console_codec = (token.get_secret_value(), SessionCodec.for_admin_token(token))
    return state.console_codec[1]


def base_path(request: Request) -> str:
    """Where the console is mounted (the Mount sets root_path to it)."""
    return str(request.scope.get("root_path", "")) or PREFIX


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def _ended_key(request: Request, session: Session) -> str:
    return settings_of(request).redis_key(f"console:ended:{session_id(session)}")


async def session_of(request: Request) -> Session | None:
    """The request's session; None without a valid cookie or when that session was logged out
    (Redis away: TransientError, never a session taken for valid unchecked)."""
    codec = codec_of(request)
    session = codec.loads(request.cookies.get(COOKIE)) if codec else None
    if session is None or not session.authenticated:
        return session
    try:
        ended = await request.app.state.alerts.client.exists(_ended_key(request, session))
    except (RedisError, OSError) as exc:
        raise TransientError(f"console sessions: Redis unavailable ({type(exc).__name__})") from exc
    return None if ended else session


async def end_session(request: Request, session: Session, max_age_sec: int) -> None:
    """Logged out: the session is refused from now on, everywhere, until its cookie would expire."""
    remaining = max(1, int(session.issued_at + max_age_sec - time.time()) + 1)
    try:
        await request.app.state.alerts.client.set(_ended_key(request, session), b"1", ex=remaining)
    except (RedisError, OSError) as exc:
        raise TransientError(f"console sessions: Redis unavailable ({type(exc).__name__})") from exc


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    session: Session | None = getattr(request.state, "session", None)
    body = ENV.get_template(f"console/{name}").render(
        base=base_path(request), csrf=session.csrf if session else "",
        logged_in=bool(session and session.authenticated), path=request.url.path, **context,
    )
    return HTMLResponse(body, status_code=status, headers=HEADERS)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=HEADERS)


async def read_form(request: Request) -> dict[str, str] | None:
    """A url-encoded form body (last value of a repeated field), or None when it is too big or not a form."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return None
    try:
        body = await capped_body(request, MAX_FORM_BYTES)
    except BodyTooLarge:
        return None
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50))
    except (UnicodeDecodeError, ValueError):
        return None


def same_origin(request: Request) -> bool:
    """A browser's Origin header, when sent, names this host (defence in depth beside the token)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def page(handler: Handler) -> Handler:
    """A page behind the login. GET without a session redirects to the login; a POST needs a session,
    a same-origin request and the session's CSRF token in its form (`request.state.form`). A dependency
    that is down is a 503 page, not a stack trace."""

    @functools.wraps(handler)
    async def guarded(request: Request) -> Response:
        try:
            session = await session_of(request)
        except TransientError as exc:
            return render(request, "error.html", status=503, message=f"A dependency is unavailable: {exc}"[:400])
        if session is None or not session.authenticated:
            if request.method == "GET":
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return redirect(f"{base_path(request)}/login?next={quote(target, safe='')}")
            return render(request, "error.html", status=403, message="Log in first.")
        request.state.session = session
        if request.method == "POST":
            form = await read_form(request)
            if form is None or not same_origin(request) or not csrf_ok(session, form.get("csrf")):
                return render(request, "error.html", status=403, message="The form expired or did not come from "
                              "this console; reload the page and try again.")
            request.state.form = form
        try:
            return await handler(request)
        except TransientError as exc:
            log.warning("console: %s %s: %s", request.method, request.url.path, exc)
            return render(request, "error.html", status=503, message=f"A dependency is unavailable: {exc}"[:400])

    return guarded


def as_dict(value: Any) -> dict[str, Any]:
    """`value` when it is an object (stored JSON comes from outside writers too), else empty."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
