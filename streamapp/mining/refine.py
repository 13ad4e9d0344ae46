"""Refinement rules (pure): which tokens read as words, where to split, how templates combine.

Drain groups lines by similarity, which happily merges `VM Started` with `VM Stopped`. These rules
decide, for one generic configuration, what is template text and what is a value:

* tokens are matched by their key, so `force=a` meets `force=b` (`token_key`);
* a position that takes only a few distinct word-like keys splits its cluster (`splittable`);
* templates are re-derived position by position, keeping a shared `key=` or bracket (`generalise`,
  and `shell` for values no longer remembered one by one);
* templates whose words agree are one template even when values made their lengths differ
  (`skeleton`, `align`): `0 bytes sent` and `1190 bytes (1.16 KB) sent` are both `<*> sent`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from streamapp.mining.masking import WILDCARD

Template = tuple[str, ...]

# A position is split when it takes at most this many distinct word-like values.
SPLIT_MAX = 8

# Words that are values, not template text: booleans, calendar names, short units.
_BOOLEANS = ("true", "false", "yes", "no", "on", "off", "null", "none", "nil", "enabled", "disabled")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_SHORT_UNITS = ("b", "kb", "mb", "gb", "tb", "ms", "us", "ns", "s", "sec", "min")
_VALUE_WORDS = frozenset((*_BOOLEANS, *_DAYS, *_MONTHS, *_SHORT_UNITS))
# The word after these names something (`user alice`): a value, however few the names are.
_NAMING_WORDS = frozenset(("user", "username", "account", "host", "hostname"))
# Units right after a value belong to it (`12 bytes (1.2 KB) sent`).
_LONG_UNITS = ("kib", "mib", "gib", "byte", "bytes", "secs", "second", "seconds", "mins", "minutes", "hours")
_UNIT_WORDS = frozenset((*_SHORT_UNITS, *_LONG_UNITS, "h", "days"))
_LETTER = re.compile(r"[A-Za-z]")
# `com.apple.foo`, `a.b`: dotted identifiers name things (packages, hosts, keys); they are values.
_DOTTED = re.compile(r"\w\.[A-Za-z_]")
_PUNCT = ".,;:()[]{}'\"<>!?*"
# A value keeps the text that opens and closes it: `uid=<*>`, `(<*>)`, `tag="<*>",`.
_OPENERS = "=:([{<\"'/#@|,"
_CLOSERS = ")]}>\"',;:."

# `key=value`, `key:value`, `call(arg)`: the key, with at least one letter, names the token
# (an opening quote or bracket right after it belongs to the key: `tag="`); `a::b` is a name.
_KEY = re.compile(r"[^=:(]*[A-Za-z][^=:(]*(?:[=(]|:(?!:))(?:[\"'\[{(]|<(?!\*>))*")


@lru_cache(maxsize=1 << 16)
def token_key(token: str) -> str:
    """What matching compares: the `key=` (`key:`, `call(`) of a token, else the whole token.

    Two `force=...` tokens are the same field whatever their values, so a line of word-valued
    fields still finds its cluster.
    """
    m = _KEY.match(token)
    return m.group() if m is not None else token


def shell(token: str) -> str:
    """A value reduced to what encloses it: `uid=5` -> `uid=<*>`, `(abc),` -> `(<*>),`, `abc` -> `<*>`."""
    key = token_key(token)
    bare = token.replace(WILDCARD, "\0")
    lead = len(key) if key != token else len(bare) - len(bare.lstrip(_OPENERS))
    rest = bare[lead:]
    trail = len(rest) - len(rest.rstrip(_CLOSERS))
    if trail == len(rest):
        return token  # nothing but punctuation
    closing = rest[len(rest) - trail :] if trail else ""
    return (bare[:lead] + "\0" + closing).replace("\0", WILDCARD)


def constlike(token: str) -> bool:
    """Does `token` read as template text (a word), rather than a value?"""
    core = token.replace(WILDCARD, "").strip(_PUNCT)
    return _LETTER.search(core) is not None and core.lower() not in _VALUE_WORDS and _DOTTED.search(core) is None


def splittable(values: set[str], previous: str) -> bool:
    """A few distinct word-like values at one position: distinct templates, not a variable."""
    if not 1 < len(values) <= SPLIT_MAX or not all(map(constlike, values)):
        return False
    if previous.lower() in _NAMING_WORDS:
        return False
    # `key=a` / `key=b`: the same key with different values is one template.
    prefix = os.path.commonprefix(list(values))
    return "=" not in prefix and ":" not in prefix


def merge_token(a: str, b: str) -> str:
    """`<*>` for the differing part of two tokens, keeping a shared `key=` or brackets around it."""
    if a == b:
        return a
    if a == WILDCARD or b == WILDCARD:
        return WILDCARD
    # Wildcards already in the tokens count as one opaque character.
    a, b = a.replace(WILDCARD, "\0"), b.replace(WILDCARD, "\0")
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    while i > 0 and a[i - 1] not in _OPENERS:
        i -= 1
    j = 0
    while j < n - i and a[-1 - j] == b[-1 - j]:
        j += 1
    while j > 0 and a[-j] not in _CLOSERS:
        j -= 1
    return (a[:i] + "\0" + a[len(a) - j :]).replace("\0", WILDCARD)


def generalise(templates: Iterable[Sequence[str]]) -> Template:
    """Position by position: a token stays when all templates agree, else its value becomes `<*>`."""
    it = iter(templates)
    out = list(next(it))
    for t in it:
        for i, tok in enumerate(t):
            if out[i] != tok:
                out[i] = merge_token(out[i], tok)
    return tuple(out)


class Words:
    """Which tokens of a template are words; memoises `constlike` per token."""

    __slots__ = ("_memo",)

    def __init__(self) -> None:
        self._memo: dict[str, bool] = {}

    def flags(self, template: Sequence[str]) -> list[bool]:
        """One flag per token; a unit right after a value is part of the value."""
        memo = self._memo
        out = []
        prev = ""
        for tok in template:
            w = memo.get(tok)
            if w is None:
                if len(memo) > 100_000:
                    memo.clear()
                w = memo[tok] = constlike(tok)
            if w and prev.endswith(WILDCARD) and tok.strip(_PUNCT).lower() in _UNIT_WORDS:
                w = False
            out.append(w)
            prev = tok
        return out

    def skeleton(self, template: Sequence[str]) -> Template:
        """The words of a template, in order: templates with the same skeleton are one template."""
        return tuple(t for t, w in zip(template, self.flags(template), strict=True) if w)

    def align(self, templates: Sequence[Template]) -> Template:
        """One template for templates sharing a skeleton: equal gaps stay, unequal ones are `<*>`."""
        if len({len(t) for t in templates}) == 1:
            return generalise(templates)
        out: list[str] = []
        for column in zip(*(self._gaps(t) for t in templates), strict=True):
            if len({len(g) for g in column}) > 1:
                out.append(WILDCARD)
            elif column[0]:
                out.extend(generalise(column))
        return tuple(out)

    def _gaps(self, template: Template) -> list[list[str]]:
        """Alternating gaps and single words: `a <*> b` -> [[], [a], [<*>], [b], []]."""
        gaps: list[list[str]] = [[]]
        for tok, w in zip(template, self.flags(template), strict=True):
            if w:
                gaps.append([tok])
                gaps.append([])
            else:
                gaps[-1].append(tok)
        return gaps
