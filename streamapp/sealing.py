"""Source secrets sealed for storage (pure): envelope encryption with Fernet (AES-128-CBC with
HMAC-SHA256, from `cryptography`).

Each sealed value has its own data key; the data key is stored wrapped by the key-encryption key
of SECRETS_KEY. SECRETS_KEY lists Fernet keys, the first one current: a new one is put first, the
old ones stay after it until every row's data key has been wrapped again by the current one
(`rewrap`, done at start), then they can be dropped. A database dump without SECRETS_KEY shows no
secret.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from streamapp.errors import ConfigError

__all__ = ["InvalidToken", "Keys", "new_key"]


def new_key() -> str:
    """A fresh key for SECRETS_KEY."""
    return Fernet.generate_key().decode()


class Keys:
    """The key-encryption keys of SECRETS_KEY, current first."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ConfigError("SECRETS_KEY is not set: source secrets cannot be stored encrypted "
                              "(generate one with `streamapp secrets new-key`)")
        try:
            self._fernets = [Fernet(k.encode()) for k in keys]
        except ValueError:
            raise ConfigError("SECRETS_KEY: each comma-separated key must be a Fernet key "
                              "(32 url-safe base64-encoded bytes)") from None
        self._any = MultiFernet(self._fernets)

    def seal(self, secrets: dict[str, str]) -> str:
        data_key = Fernet.generate_key()
        return json.dumps({
            "v": 1, "key": self._fernets[0].encrypt(data_key).decode(),
            "data": Fernet(data_key).encrypt(json.dumps(secrets).encode()).decode(),
        })

    def unseal(self, sealed: str) -> dict[str, str]:
        """The secrets; InvalidToken when no key of SECRETS_KEY wrapped this value's data key."""
        box = json.loads(sealed)
        data_key = self._any.decrypt(box["key"].encode())
        return dict(json.loads(Fernet(data_key).decrypt(box["data"].encode())))

    def rewrap(self, sealed: str) -> str | None:
        """The value with its data key wrapped by the current key; None when it already is."""
        box = json.loads(sealed)
        try:
            self._fernets[0].decrypt(box["key"].encode())
            return None
        except InvalidToken:
            return json.dumps({**box, "key": self._any.rotate(box["key"].encode()).decode()})
