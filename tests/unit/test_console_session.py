"""The console's session cookie and CSRF checks, in process (httpx on the ASGI app): nothing here
reaches Redis, since every refusal happens before a page reads anything."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from streamapp.api.app import create_api
from streamapp.clock import ManualClock
from streamapp.console.session import COOKIE, MAX_AGE_SEC, SessionCodec, csrf_ok
from streamapp.settings import load_settings

TOKEN = "console-unit-token-0123456789-of-the-tests-0123456789"


def codec(token: str = TOKEN, clock: ManualClock | None = None) -> SessionCodec:
    made = SessionCodec.for_admin_token(SecretStr(token), clock=clock or ManualClock())
    assert made is not None
    return made


def test_a_session_round_trips_and_a_forged_one_does_not() -> None:
    c = codec()
    session = c.new(authenticated=True)
    value = c.dumps(session)
    assert c.loads(value) == session
    payload, signature = value.split(".")
    forged = base64.urlsafe_b64encode(json.dumps({"a": 1, "c": "x" * 43, "t": 1.7e9}).encode()).rstrip(b"=").decode()
    assert c.loads(f"{forged}.{signature}") is None, "a changed payload fails the signature"
    assert codec("another-token").loads(value) is None, "a new admin token ends every session"
    for junk in ("", "x", "a.b", "a.b.c", "..", "=." * 600, f"{payload}.{signature}x"):
        assert c.loads(junk) is None


def test_sessions_expire() -> None:
    clock = ManualClock()
    c = codec(clock=clock)
    value = c.dumps(c.new(authenticated=True))
    clock.advance(MAX_AGE_SEC - 1)
    assert c.loads(value) is not None
    clock.advance(2)
    assert c.loads(value) is None


def test_a_session_is_valid_at_once_whatever_its_fraction_of_a_millisecond() -> None:
    """A request right after its cookie was issued finds it valid (the cookie's time is never later
    than the session's)."""
    clock = ManualClock(start=1_700_000_000.0006)
    c = codec(clock=clock)
    assert c.loads(c.dumps(c.new(authenticated=True))) is not None


def test_csrf_tokens_are_per_session() -> None:
    c = codec()
    one, two = c.new(authenticated=True), c.new(authenticated=True)
    assert one.csrf != two.csrf and len(one.csrf) >= 32
    assert csrf_ok(one, one.csrf) and not csrf_ok(one, two.csrf)
    assert not csrf_ok(one, "") and not csrf_ok(None, one.csrf)


def test_no_admin_token_no_codec() -> None:
    assert SessionCodec.for_admin_token(SecretStr("")) is None


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_api(load_settings(admin_token=TOKEN, stream_prefix="console-unit."), probes={})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


def csrf_of_form(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found[1]


def csrf_of_cookie(http: httpx.AsyncClient) -> str:
    payload = http.cookies[COOKIE].split(".")[0]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["c"]


async def log_in(http: httpx.AsyncClient, nxt: str = "") -> httpx.Response:
    form = await http.get("/console/login")
    return await http.post("/console/login", data={"csrf": csrf_of_form(form.text), "token": TOKEN, "next": nxt})


async def test_cookie_flags(client: httpx.AsyncClient) -> None:
    answer = await client.get("/console/login")
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert "httponly" in flags and flags["samesite"].lower() == "samesite=lax" and flags["path"] == "Path=/console"
    assert "secure" not in flags, "plain http on loopback: a Secure cookie would never come back"
    logged_in = await log_in(client)
    assert logged_in.status_code == 303 and "HttpOnly" in logged_in.headers["set-cookie"]


async def test_cookie_is_secure_over_https() -> None:
    app = create_api(load_settings(admin_token=TOKEN, stream_prefix="console-unit."), probes={})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as http:
        answer = await http.get("/console/login")
    assert "secure" in answer.headers["set-cookie"].lower()


async def test_pages_need_a_login(client: httpx.AsyncClient) -> None:
    for path in ("/console/alerts?severity=error", "/console/issues", "/console/prototypes", "/console/sources",
                 "/console/toggles", "/console/alerts/a1"):
        answer = await client.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/console/login?next=%2Fconsole%2F")
    assert (await client.post("/console/toggles", data={"name": "automations", "value": "true"})).status_code == 403


async def test_login_wrong_token_and_expired_form(client: httpx.AsyncClient) -> None:
    form = await client.get("/console/login")
    assert form.headers["content-security-policy"].startswith("default-src 'none'")
    csrf = csrf_of_form(form.text)
    wrong = await client.post("/console/login", data={"csrf": csrf, "token": "nope", "next": ""})
    assert wrong.status_code == 401 and "Wrong admin token." in wrong.text
    no_csrf = await client.post("/console/login", data={"token": TOKEN})
    assert no_csrf.status_code == 403, "a login without the form's token is refused (login CSRF)"
    assert (await client.get("/console/toggles")).status_code == 303, "still not logged in"


async def test_login_starts_a_new_session_and_goes_only_to_console_pages(client: httpx.AsyncClient) -> None:
    await client.get("/console/login")
    before = csrf_of_cookie(client)
    answer = await log_in(client, "/console/issues?state=all")
    assert answer.headers["location"] == "/console/issues?state=all"
    assert csrf_of_cookie(client) != before, "no session fixation: the login issues a new session"
    for evil in ("//evil.example/x", "https://evil.example/", "/console//evil.example", "/elsewhere", "/console\\x"):
        client.cookies.clear()
        assert (await log_in(client, evil)).headers["location"] == "/console/alerts", evil


async def test_forms_need_the_session_csrf_token(client: httpx.AsyncClient) -> None:
    await log_in(client)
    csrf = csrf_of_cookie(client)
    target = "/console/alerts/some-alert/feedback"
    assert (await client.post(target, data={"verdict": "correct"})).status_code == 403
    assert (await client.post(target, data={"verdict": "correct", "csrf": "x" * 43})).status_code == 403
    cross = await client.post(target, data={"verdict": "correct", "csrf": csrf},
                              headers={"Origin": "http://evil.example"})
    assert cross.status_code == 403, "a cross-site Origin is refused even with the token"
    as_json = await client.post(target, json={"verdict": "correct", "csrf": csrf})
    assert as_json.status_code == 403, "only url-encoded forms"
    big = await client.post(target, data={"verdict": "correct", "csrf": csrf, "note": "x" * 20_000})
    assert big.status_code == 403
    out = await client.post("/console/logout", data={"csrf": csrf}, headers={"Origin": "http://testserver"})
    assert out.status_code == 303 and out.headers["location"] == "/console/login"
    assert COOKIE not in client.cookies
    assert (await client.get("/console/alerts")).status_code == 303


async def test_no_admin_token_no_login() -> None:
    app = create_api(load_settings(admin_token="", stream_prefix="console-unit."), probes={})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        form = await http.get("/console/login")
        assert form.status_code == 403 and "ADMIN_TOKEN is empty" in form.text
        assert (await http.post("/console/login", data={"token": ""})).status_code == 403
        assert (await http.get("/console/alerts")).status_code == 303
