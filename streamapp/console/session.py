"""The console's session: a signed cookie, and the list of sessions logged out.

The cookie holds `{"a": logged in, "c": CSRF token, "t": issued at}` as base64url JSON and an
HMAC-SHA256 over it. The key derives from the admin token, so sessions survive restarts and work
across API processes, and changing ADMIN_TOKEN ends every session at once. Logging out ends the
session on the server too (`session_id` kept in Redis until the cookie would have expired): a
copy of the cookie is worth nothing after it. The cookie is HttpOnly
(no script reads it), SameSite=Lax (a cross-site form post carries no session; a link from a pager
or a chat still opens the page) and Secure when the console is served over https. Every POST form
also carries the session's CSRF token, checked in constant time (`csrf_ok`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import secrets
from dataclasses import dataclass

from pydantic import SecretStr
from starlette.responses import Response

from streamapp.clock import Clock, SystemClock

COOKIE = "streamapp_console"
MAX_AGE_SEC = 12 * 3600  # a session lasts one on-call shift
_KEY_CONTEXT = b"streamapp console session v1"


@dataclass(frozen=True)
class Session:
    """`authenticated` is False for the pre-login session that only carries the login form's CSRF token."""

    authenticated: bool
    csrf: str
    issued_at: float


class SessionCodec:
    """Signs and checks session cookies with one key."""

    def __init__(self, key: bytes, *, max_age_sec: int = MAX_AGE_SEC, clock: Clock | None = None) -> None:
        self._key = key
        self.max_age_sec = max_age_sec
        self.clock = clock or SystemClock()

    @classmethod
    def for_admin_token(cls, admin_token: SecretStr, **kw: object) -> SessionCodec | None:
        """The codec keyed by the admin token; None when the token is empty (nobody may log in)."""
        token = admin_token.get_secret_value()
        if not token:
            return None
        key = hmac.new(token.encode(), _KEY_CONTEXT, hashlib.sha256).digest()
        return cls(key, **kw)  # type: ignore[arg-type]

    def new(self, *, authenticated: bool) -> Session:
        """A fresh session with its own CSRF token (a login never keeps the pre-login token)."""
        return Session(authenticated, secrets.token_urlsafe(32), self.clock.now())

    def dumps(self, session: Session) -> str:
        # the issue time to the millisecond below: rounded, it could lie up to 0.5 ms in the future, and a
        # request that quick found its cookie not yet valid
        issued = math.floor(session.issued_at * 1000) / 1000
        body = json.dumps({"a": int(session.authenticated), "c": session.csrf, "t": issued},
                          separators=(",", ":")).encode()
        payload = _b64(body)
        return f"{payload}.{_b64(self._sign(payload))}"

    def loads(self, value: str | None) -> Session | None:
        """The session of a cookie value, or None when it is missing, forged, malformed or expired."""
        if not value or len(value) > 1024 or value.count(".") != 1:
            return None
        payload, signature = value.split(".")
        try:
            presented = _unb64(signature)
            if not hmac.compare_digest(presented, self._sign(payload)):
                return None
            data = json.loads(_unb64(payload))
            session = Session(bool(data["a"]), str(data["c"]), float(data["t"]))
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
        age = self.clock.now() - session.issued_at
        if not 0 <= age <= self.max_age_sec or len(session.csrf) < 32:
            return None
        return session

    def _sign(self, payload: str) -> bytes:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).digest()


def session_id(session: Session) -> str:
    """Names a session on the server (its random CSRF token is its own; a digest of it is stored)."""
    return hashlib.sha256(session.csrf.encode()).hexdigest()[:32]


def csrf_ok(session: Session | None, presented: str | None) -> bool:
    """The form's token equals the session's (constant time)."""
    if session is None or not presented:
        return False
    return hmac.compare_digest(presented.encode(), session.csrf.encode())


def set_cookie(response: Response, codec: SessionCodec, session: Session, *, path: str, secure: bool) -> None:
    response.set_cookie(
        COOKIE, codec.dumps(session), max_age=codec.max_age_sec, path=path, httponly=True, samesite="lax",
        secure=secure,
    )


def clear_cookie(response: Response, *, path: str, secure: bool) -> None:
    response.delete_cookie(COOKIE, path=path, httponly=True, samesite="lax", secure=secure)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
