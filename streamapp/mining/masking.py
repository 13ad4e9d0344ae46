"""Generic masking of variable values (one configuration for every log), token by token.

All masks are alternatives of one compiled pattern, applied to each whitespace token and cached
per token: real logs repeat the same tokens endlessly, so most tokens never reach the regex.
A token is masked as a whole when it *is* a value (`10.0.0.1:80`, `/var/log/x`, `0x1f`) and in
parts when a value is glued to a constant (`uid=0` -> `uid=<*>`, `node-12` -> `node-<*>`).
"""

from __future__ import annotations

import re

WILDCARD = "<*>"

# Longest tokens that are still worth looking at; longer ones are blobs (base64, dumps): variables.
MAX_TOKEN_CHARS = 200

_UNITS = (
    r"(?:[kKMGTP]i?[bB](?:ytes?|ps|/s)?|[bB]ytes?|bps|[mun]?s|secs?|seconds?|mins?|minutes?|"
    r"h|hrs?|hours?|days?|ms|us|ns|[kKMG]?Hz|%|x)"
)
# Order matters: the first alternative that matches at a position wins.
_MASKS = (
    r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]*",  # URL
    r"[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",  # e-mail
    r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}",  # UUID
    r"(?:[0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}",  # MAC address
    r"/?\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?",  # IPv4 with optional port
    r"(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}[a-fA-F][0-9a-fA-F]{0,3}(?![\w:])",  # IPv6 (a hex letter)
    r"[A-Za-z][\w-]*(?:\.[\w-]+)+:\d{1,5}",  # host.name:port
    r"\d{4}[-/]\d{1,2}[-/]\d{1,2}(?:[T :]\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?",  # date
    r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?",  # time of day, clock duration
    r"(?:[A-Za-z]:)?(?:[\\/][\w.@%+=~$#-]*){2,}",  # path with at least two components
    r"0[xX][0-9a-fA-F]+",  # hex literal
    r"(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{6,}",  # bare hex id (digits and letters)
    r"[A-Za-z]+_-?\d[\w-]*",  # prefixed id: blk_-42, job_1445_0020, attempt_..._m_000002_0
    r"\d+(?:[dhm]\d+)+(?:\.\d+)?s?|P?T?\d+(?:\.\d+)?[HMS]",  # durations: 1h2m3s, PT5S
    rf"[-+]?\d+(?:\.\d+)?{_UNITS}",  # number with unit
    r"v?\d+(?:\.\d+){2,}(?:[-+]\w+)?",  # version
    r"[-+]?\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?",  # number
)
# A value never starts inside a word nor runs into one: `t761` and `abc123` stay as they are.
_PATTERN = re.compile(r"(?<![\w.])(?:" + "|".join(_MASKS) + r")(?![\w])")
# Cheap pre-check: every alternative needs a digit, a slash or an '@'.
_MAYBE = re.compile(r"[\d/\\@]")

_CACHE_LIMIT = 200_000


class Masker:
    """Masks the variable values of whitespace tokens; per-token results are cached."""

    __slots__ = ("_cache",)

    def __init__(self) -> None:
        self._cache: dict[str, str] = {}

    def mask_token(self, token: str) -> str:
        """`token` with every value replaced by `<*>` (a long token is a value as a whole)."""
        masked = self._cache.get(token)
        if masked is not None:
            return masked
        if len(token) > MAX_TOKEN_CHARS:
            masked = WILDCARD
        elif _MAYBE.search(token) is None:
            masked = token
        else:
            masked = _PATTERN.sub(WILDCARD, token)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[token] = masked
        return masked

    def tokens(self, message: str) -> tuple[str, ...]:
        """The masked tokens of a message."""
        get = self._cache.get
        out = []
        for token in message.split():
            masked = get(token)
            out.append(masked if masked is not None else self.mask_token(token))
        return tuple(out)
