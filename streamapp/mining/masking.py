"""Generic masking of variable values (one configuration for every log), token by token.

All masks are alternatives of one compiled pattern, applied to each whitespace token and cached
per token: real logs repeat the same tokens endlessly, so most tokens never reach the regex.
A token is masked as a whole when it *is* a value (`10.0.0.1:80`, `/var/log/x`, `0x1f`) and in
parts when a value is glued to a constant (`uid=0` -> `uid=<*>`, `node-12` -> `node-<*>`).
"""

from __future__ import annotations

import re

from streamapp.caches import RepeatCache

WILDCARD = "<*>"

# Longest tokens that are still worth looking at; longer ones are blobs (base64, dumps): variables.
MAX_TOKEN_CHARS = 200
# Tokens of a message that can be template text; the rest of a longer message is one value.
MAX_TOKENS = 256

_TLDS = "com|net|org|edu|gov|mil|int|io|info|biz|us|uk|de|fr|cn|jp|hk|kr|ru|br|in|au|ca|nl|local|lan"
_UNITS = (
    r"(?:[kKMGTP]i?[bB](?:ytes?|ps|/s)?|[bB]ytes?|bps|[mun]?s|secs?|seconds?|mins?|minutes?|"
    r"h|hrs?|hours?|days?|ms|us|ns|[kKMG]?Hz|%|x)"
)
# (pattern, can it match without an ASCII letter?). Order matters: the first alternative that
# matches at a position wins.
_MASKS = (
    (r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]*", False),  # URL
    (r"[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", False),  # e-mail
    (r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", True),  # UUID
    (r"(?:[0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}", True),  # MAC address
    (r"/?\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?", True),  # IPv4 with optional port
    (r"(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}[a-fA-F][0-9a-fA-F]{0,3}(?![\w:])", False),  # IPv6
    (r"[\w.-]+/\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?", True),  # host/1.2.3.4:port
    (r"(?:[a-z][a-z0-9-]*(?:\.[a-z0-9-]+)+|[A-Za-z][\w]*-[\w-]*):\d{2,5}", False),  # host.name:port
    (rf"[A-Za-z0-9][\w-]*(?:\.[\w-]+)+\.(?:{_TLDS})(?!\.\w)", False),  # fully qualified host name
    # date, with an optional time and zone
    (r"\d{4}[-/]\d{1,2}[-/]\d{1,2}(?:[T :]\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?", True),
    (r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?", True),  # time of day, clock duration
    (r"(?:[A-Za-z]:)?(?:[\\/][\w.@%+=~$#-]*){2,}", True),  # path with at least two components
    (r"0[xX][0-9a-fA-F]+", False),  # hex literal
    (r"(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{6,}", False),  # bare hex id
    (r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z][A-Za-z0-9]*)*_-?\d[\w-]*", False),  # prefixed id: blk_-42, job_1_2
    (r"\d+(?:_\d+)+", True),  # numbers joined by `_`: a composite id (session `30546174_1497092`)
    (r"(?=(?:[A-Za-z]*\d){6})[A-Za-z0-9]{16,}", True),  # long id: 16+ letters and digits, 6+ digits
    (r"\d+(?:[dhm]\d+)+(?:\.\d+)?s?|P?T?\d+(?:\.\d+)?[HMS]", False),  # durations: 1h2m3s, PT5S
    (rf"[-+]?\d+(?:\.\d+)?{_UNITS}", True),  # number with unit (`%` has no letter)
    (r"v?\d+(?:\.\d+){2,}(?:[-+]\w+)?", True),  # version
    (r"[-+]?\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?", True),  # number
    (r"true|false|null|TRUE|FALSE|NULL|True|False", False),  # boolean, null
)


def _compile(masks: tuple[tuple[str, bool], ...]) -> re.Pattern[str]:
    # A value never starts inside a word nor runs into one: `t761` and `abc123` stay as they are.
    return re.compile(r"(?<![\w.])(?:" + "|".join(m for m, _ in masks) + r")(?![\w])")


_PATTERN = _compile(_MASKS)
# The same answers for tokens without letters, from the alternatives that can match them: faster.
_PATTERN_NO_LETTERS = _compile(tuple(m for m in _MASKS if m[1]))
# Cheap pre-check: what every alternative needs (a digit, a slash, an '@', a boolean, a TLD).
_MAYBE = re.compile(r"[\d/\\@]|true|false|null|TRUE|FALSE|NULL|True|False|\.(?:" + _TLDS + ")")

# Masked tokens remembered, from their second sighting on (`RepeatCache`): most tokens left after a
# line's digits are classed are values seen once (in 200,000 generated syslog lines, 95% of the
# 173,000 distinct ones never came again), while the words that do answer 84% of the lookups.
_CACHE_LIMIT = 200_000
# Masked lines remembered (by their digit class, below), from their second sighting on (`RepeatCache`).
_LINE_CACHE_LIMIT = 65_536
# Every alternative treats the ten digits alike, but for the `0` of `0x`: a text with its digits
# all made `1` (but `0`, where a `0x` is) matches at the same places. So lines that differ only in
# their digits (`took 12 ms from 10.1.2.3`, `took 47 ms from 10.9.8.7`) are masked once; wherever
# a `1` is left unmasked the digit itself matters, and that token is masked as it was written.
_DIGIT_CLASS = bytes.maketrans(b"0123456789", b"1111111111")
_DIGIT_CLASS_HEX = bytes.maketrans(b"23456789", b"11111111")


def _digit_class(text: str) -> str:
    # On UTF-8 bytes: ASCII digits never occur inside a multi-byte character.
    raw = text.encode("utf-8", "surrogatepass")
    table = _DIGIT_CLASS_HEX if b"0x" in raw or b"0X" in raw else _DIGIT_CLASS
    return raw.translate(table).decode("utf-8", "surrogatepass")


# What may wrap a bare number (no sign, no slash, no leading dot: the pattern treats those apart).
_LEADS = "([{<'\"=:#@"
_TRAILS = ")]}>'\",;:."

# Day and month names: next to masked numbers they are a date, which is one value.
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_CALENDAR = frozenset(w + p for w in (*_DAY_NAMES, *_MONTH_NAMES) for p in ("", ","))


def _join_dates(tokens: list[str]) -> list[str]:
    """Runs of day/month names and masked numbers become one `<*>`."""
    out: list[str] = []
    run: list[str] = []
    for tok in [*tokens, ""]:
        if tok in _CALENDAR or tok == WILDCARD:
            run.append(tok)
            continue
        if run:
            dated = WILDCARD in run and any(t in _CALENDAR for t in run)
            out.extend([WILDCARD] if dated else run)
            run = []
        out.append(tok)
    out.pop()
    return out


class Masker:
    """Masks the variable values of whitespace tokens; results are cached per token and per line
    (by digit class, see `_DIGIT_CLASS`)."""

    __slots__ = ("_cache", "_lines")

    def __init__(self) -> None:
        self._cache: RepeatCache[str, str] = RepeatCache(_CACHE_LIMIT)
        # A line's digit class -> its masked tokens, and the positions where a digit was left
        # unmasked (those are masked from the line itself).
        self._lines: RepeatCache[str, tuple[tuple[str, ...], tuple[int, ...]]] = RepeatCache(_LINE_CACHE_LIMIT)

    def mask_token(self, token: str) -> str:
        """`token` with every value replaced by `<*>` (a long token is a value as a whole)."""
        masked = self._cache.get(token)
        if masked is not None:
            return masked
        # Bare numbers are the commonest value and endless: answered without regex or cache.
        if token.isdecimal():
            return WILDCARD
        # A number in brackets or after `=`: the same answer as the pattern's, much faster.
        start = len(token) - len(token.lstrip(_LEADS))
        end = len(token.rstrip(_TRAILS))
        if start < end and token[start:end].isdecimal():
            masked = token[:start] + WILDCARD + token[end:]
        elif len(token) > MAX_TOKEN_CHARS:
            masked = WILDCARD
        elif _MAYBE.search(token) is None:
            masked = token
        else:
            pattern = _PATTERN_NO_LETTERS if token.lower() == token.upper() else _PATTERN
            masked = pattern.sub(WILDCARD, token)
        self._cache.put(token, masked)
        return masked

    def tokens(self, message: str) -> tuple[str, ...]:
        """The masked tokens of a message (at most `MAX_TOKENS`)."""
        classed = _digit_class(message)
        hit = self._lines.get(classed)
        if hit is None:
            hit = self._mask_line(classed)
            self._lines.put(classed, hit)
        out, own = hit
        if own:
            words = message.split()
            patched = list(out)
            for i in own:
                patched[i] = self.mask_token(words[i])
            out = tuple(patched)
        if not _CALENDAR.isdisjoint(out):
            out = tuple(_join_dates(list(out)))
        return out

    def _mask_line(self, classed: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
        words = classed.split()
        cut = len(words) > MAX_TOKENS
        if cut:
            words = words[:MAX_TOKENS]
        get, mask = self._cache.get, self.mask_token
        out = [get(w) or mask(w) for w in words]
        if cut:
            out[-1] = WILDCARD
        return tuple(out), tuple(i for i, m in enumerate(out) if "1" in m)
