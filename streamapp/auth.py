"""Tokens: stored and compared as SHA-256 digests, in constant time, never logged."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from pydantic import SecretStr


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
