"""Logging in with the admin token, and out.

    GET  /console/login     the form (and a pre-login session carrying its CSRF token)
    POST /console/login     token + CSRF -> a new logged-in session cookie, then `next`
    POST /console/logout    ends the session (the cookie is removed)
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from streamapp.api.alerts import client_address, failed_attempt
from streamapp.auth import token_hash, token_matches
from streamapp.console import session as sessions
from streamapp.console.web import (
    base_path,
    codec_of,
    end_session,
    is_https,
    page,
    read_form,
    redirect,
    render,
    same_origin,
    session_of,
)


def safe_next(request: Request, target: str | None) -> str:
    """Where to go after the login: a console path only (never another site)."""
    base = base_path(request)
    if target and target.startswith(base + "/") and "//" not in target and "\\" not in target:
        return target
    return f"{base}/alerts"


async def login_form(request: Request) -> Response:
    codec = codec_of(request)
    nxt = safe_next(request, request.query_params.get("next"))
    if codec is None:
        return render(request, "login.html", status=403, next=nxt, error="Login is disabled: ADMIN_TOKEN is empty.")
    current = await session_of(request)
    if current is not None and current.authenticated:
        return redirect(nxt)
    anonymous = current or codec.new(authenticated=False)
    request.state.session = anonymous
    response = render(request, "login.html", next=nxt, error="")
    sessions.set_cookie(response, codec, anonymous, path=base_path(request), secure=is_https(request))
    return response


async def login(request: Request) -> Response:
    codec = codec_of(request)
    if codec is None:
        return render(request, "login.html", status=403, next="", error="Login is disabled: ADMIN_TOKEN is empty.")
    current = await session_of(request)
    form = await read_form(request)
    if form is None or current is None or not same_origin(request) or not sessions.csrf_ok(current, form.get("csrf")):
        # No valid pre-login session: start one, and ask again.
        fresh = codec.new(authenticated=False)
        request.state.session = fresh
        response = render(request, "login.html", status=403, next=safe_next(request, (form or {}).get("next")),
                          error="The login form expired; please try again.")
        sessions.set_cookie(response, codec, fresh, path=base_path(request), secure=is_https(request))
        return response
    nxt = safe_next(request, form.get("next"))
    configured = request.app.state.settings.admin_token.get_secret_value()
    request.state.session = current
    if wait := request.app.state.auth_failures.wait_sec(client_address(request)):
        response = render(request, "login.html", status=429, next=nxt,
                          error=f"Too many failed logins from this address: try again in {wait} s.")
        response.headers["Retry-After"] = str(wait)
        return response
    if not token_matches(form.get("token", ""), token_hash(configured)):
        failed_attempt(request)
        return render(request, "login.html", status=401, next=nxt, error="Wrong admin token.")
    done = redirect(nxt)
    sessions.set_cookie(done, codec, codec.new(authenticated=True), path=base_path(request), secure=is_https(request))
    return done


@page
async def logout(request: Request) -> Response:
    codec = codec_of(request)
    assert codec is not None  # @page let a logged-in session through
    await end_session(request, request.state.session, codec.max_age_sec)
    response = redirect(f"{base_path(request)}/login")
    sessions.clear_cookie(response, path=base_path(request), secure=is_https(request))
    return response
