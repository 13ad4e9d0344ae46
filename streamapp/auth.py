"""Tokens: stored and compared as SHA-256 digests, in constant time, never logged; failed
attempts limited per client address."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections import OrderedDict, deque

from pydantic import SecretStr

from streamapp.clock import Clock, SystemClock

MIN_ADMIN_TOKEN_CHARS = 32


def token_hash(token: str) -> str:
    """What is stored for a token (tokens are high-entropy random strings, so no salt/KDF needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_matches(presented: str | None, stored_hash: str) -> bool:
    """Constant-time comparison of a presented token against a stored hash."""
    if not presented or not stored_hash:
        return False
    return hmac.compare_digest(token_hash(presented), stored_hash)


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def admin_ok(authorization: str | None, admin_token: SecretStr) -> bool:
    """True when the request carries the configured admin token (an empty setting admits no one)."""
    configured = admin_token.get_secret_value()
    return bool(configured) and token_matches(bearer(authorization), token_hash(configured))


class FailureLimiter:
    """Failed authentications per client address: after `max_failures` within `window_sec`, the
    address is refused (even with the right token) until its oldest failure leaves the window, so
    guessing a token costs a window per `max_failures` guesses. At most `max_clients` addresses
    are remembered (the least recent are forgotten first, counted in `forgotten`)."""

    def __init__(self, max_failures: int, window_sec: float, clock: Clock | None = None,
                 max_clients: int = 10_000) -> None:
        self.max_failures, self.window_sec, self.max_clients = max_failures, window_sec, max_clients
        self.clock = clock or SystemClock()
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self.forgotten = 0

    def wait_sec(self, client: str) -> int:
        """Seconds until `client` may try again (0: now)."""
        times = self._failures.get(client)
        if times is None or len(times) < self.max_failures:
            return 0
        return max(0, math.ceil(times[0] + self.window_sec - self.clock.now()))

    def failed(self, client: str) -> None:
        now = self.clock.now()
        times = self._failures.setdefault(client, deque(maxlen=self.max_failures))
        times.append(now)
        self._failures.move_to_end(client)
        while len(self._failures) > self.max_clients:
            self._failures.popitem(last=False)
            self.forgotten += 1
