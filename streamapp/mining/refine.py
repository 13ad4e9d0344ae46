"""Refinement rules (pure): which tokens read as words, where to split, how templates combine.

Drain groups lines by similarity, which happily merges `VM Started` with `VM Stopped`. These rules
decide, for one generic configuration, what is template text and what is a value:

* tokens are matched by their key, so `force=a` meets `force=b` (`token_key`), and id-shaped
  tokens (`59U8898`) as values;
* a position splits its cluster only on evidence that its few values are the program's words, not
  names or fresh values (`splittable`: naming words before it, how often values repeat);
* templates are re-derived position by position, keeping a shared `key=` or bracket, and the
  parts of tokens built alike (`root(uid=0)`, `alice(uid=1000)`: `<*>(uid=<*>)`) (`generalise`);
* templates whose words agree are one template even when values made their lengths differ
  (`skeleton`, `align`): `0 bytes sent` and `1190 bytes (1.16 KB) sent` are both `<*> sent`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from functools import lru_cache

from streamapp.mining.masking import WILDCARD

Template = tuple[str, ...]

# From this many distinct values on (from two after a place word), a position splits only when
# few of its lines bring a value seen once. Two values alone say nothing about growth (`begin`
# and `end`, each seen once, are two messages as often as two names).
SPLIT_OPEN = 3
# "Few": under a quarter of the lines. A variable drawn from an open pool keeps bringing values
# seen once, in a steady share of its lines; a program's words stop doing so after a few lines.
# A quarter still lets a message's rare alternative be seen once among four lines.
SPLIT_NEW_RATE = 0.25
# Pattern counts weigh as evidence up to this many lines, in powers of two (see `evidence`): past
# a few dozen lines one more changes no decision, and a pattern is reconsidered at 7 steps at most.
EVIDENCE_CAP = 64

# Words that are values, not template text: booleans, calendar names, short units. Among other
# words they are words again: `Failed none` sits with `Failed password` as a method name.
_BOOLEANS = ("true", "false", "yes", "no", "on", "off", "null", "none", "nil", "enabled", "disabled")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_SHORT_UNITS = ("b", "kb", "mb", "gb", "tb", "ms", "us", "ns", "s", "sec", "min")
_VALUE_WORDS = frozenset((*_BOOLEANS, *_DAYS, *_MONTHS, *_SHORT_UNITS))
# After these words comes who or what: a user, a host, a file, a table (`for root`, `user alice`,
# `by bob`, `host web1`, `table orders`). They name things of the world the program serves, not of
# the program itself, so what follows is a value however few names were seen so far: a small
# system has few users, a bigger one more, and the message is the same.
_NAMING_NOUNS = frozenset(
    (
        *("user", "username", "login", "account", "owner", "group", "host", "hostname", "domain"),
        *("file", "filename", "directory", "dir", "path", "table", "database", "db", "bucket", "variable"),
    )
)
_NAMING_WORDS = frozenset((*_NAMING_NOUNS, "for", "by", "from"))
# After these words comes a place or a name as often as a verb or a state (`to alice`, `to spawn`,
# `on en0`, `reason = AuthFail`): the value splits only on evidence that it is a word of the
# program's vocabulary: values that repeat (the Good-Turing test of `splittable`, from two values
# on), or symbols written in capitals (enum names).
_PLACE_WORDS = frozenset(("to", "on", "at", "in", "as", "via", "into", "name", "named", "client", "server"))
# Units right after a value belong to it (`12 bytes (1.2 KB) sent`).
_LONG_UNITS = ("kib", "mib", "gib", "byte", "bytes", "secs", "second", "seconds", "mins", "minutes", "hours")
_UNIT_WORDS = frozenset((*_SHORT_UNITS, *_LONG_UNITS, "h", "days"))
# What names look like when a program is given them (by its configuration, its users, the world)
# rather than writing them itself; a position whose values all look so is a value, however few:
# * quoted or bracketed, starting in lower case (`'sshd'`, `[sshd]`, `"orders"`): the quotes set
#   off text put into the message; a program's own tags are capitalised (`[HID]`, `[Accounts]`);
# * snake_case in lower case (`web_back`, `api_pool`), as configuration names things (enum
#   constants are capitals, `FAIL_TASK_CLEANUP`: symbols, see `symbol`);
# * numbered with two digits or more (`web01`, `node-112`, `db02`): members of a pool that grows;
#   a single digit numbers a device of a small fixed set (`eth0`, `tty2`, `md0`), which messages
#   name as they name their own words.
_QUOTED_NAME = re.compile(r"""(?:\[[a-z][^\]]*\]|'[a-z][^']*'|"[a-z][^"]*")[,.:;]?""")
_SNAKE_NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")
_NUMBERED_NAME = re.compile(r"[A-Za-z][A-Za-z-]*\d{2,}")
_TRAILING = ",.:;!?"
_LETTER = re.compile(r"[A-Za-z]")
_WORD_CHARS = re.compile(r"\w+")
# The qualifier of a qualified constant: dotted identifiers (`android.intent.action`, `Level`).
_QUALIFIER = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
# Letters and digits mixed the way generated ids are (`59U8898`, `a1b2`, `tc23407`, `core.2275`),
# unlike names with a number (`eth0`, `HttpServer2`, `IPv6`) or message codes (`AH01630`): a digit
# before a letter, letters on both sides of digits, a long number after a lower-case letter or a
# separator, or a decimal number (a version, a size: `TLSv1.2`).
_ID_SHAPE = re.compile(r"\d[A-Za-z]|[A-Za-z]\d+[A-Za-z]|[a-z._-]\d{4}|\d\.\d")
# `com.apple.foo`, `a.b`: dotted identifiers name things (packages, hosts, keys); they are values.
_DOTTED = re.compile(r"\w\.[A-Za-z_]")
_PUNCT = ".,;:()[]{}'\"<>!?*"
# A value keeps the text that opens and closes it: `uid=<*>`, `(<*>)`, `tag="<*>",`.
_OPENERS = "=:([{<\"'/#@|,"
_CLOSERS = ")]}>\"',;:."
# A token's parts: runs of brackets, `=`, `,` and `;` (its structure), and runs of the rest;
# tokens with brackets or `=` that have the same structure merge part by part.
_STRUCTURE_CHARS = "()[]{}=,;"
_PARTS = re.compile(r"[()\[\]{}=,;]+|[^()\[\]{}=,;]+")
_STRUCTURE = re.compile(r"[()\[\]{}=]")
_RUNS = re.compile(r"\0+")

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
    if m is not None:
        # `action:android.intent.action.SCREEN_ON`: a field holding a qualified constant names a
        # constant of the program, not data: the whole token is the key.
        return token if "." in token and symbol(token) else m.group()
    # An id-shaped token (`59U8898`, `tc23407`) is a value wherever it stands: lines meet whatever
    # their ids, as they do when a mask took the id.
    return WILDCARD if _ID_SHAPE.search(token) is not None else token


def constlike(token: str) -> bool:
    """Does `token` read as template text (a word or a symbol), rather than a value?"""
    return (_wordlike(token) or symbol(token)) and token.replace(WILDCARD, "").strip(_PUNCT).lower() not in _VALUE_WORDS


@lru_cache(maxsize=1 << 16)
def _wordlike(token: str) -> bool:
    """A token that could be template text: letters, not a dotted name nor an id-shaped mix."""
    core = token.replace(WILDCARD, "").strip(_PUNCT)
    return _LETTER.search(core) is not None and _DOTTED.search(core) is None and _ID_SHAPE.search(core) is None


def symbol(token: str) -> bool:
    """An enum-style symbol: capitals (with `_` or `-`) only, `RUNNING`, `FAIL_TASK_CLEANUP`, also
    qualified (`android.intent.action.SCREEN_ON`) or held by a field (`action:Intent.SCREEN_ON`);
    not a numbered thing (`CPU1`).

    Not cached: the tokens it is asked about are mostly values that come once (in a worker on a
    million generated syslog lines, 607 of 120,000 calls found a 65,536-entry cache holding the
    answer, which held about 10 MB), and an answer costs one anchored match."""
    m = _KEY.match(token)
    core = token[m.end() :] if m is not None else token
    core = core.strip(_PUNCT)
    if "." in core:
        qualifier, core = core.rsplit(".", 1)
        if _QUALIFIER.fullmatch(qualifier) is None:
            return False
    return len(core) > 1 and core.isupper() and core.replace("_", "").replace("-", "").isalpha()


def splittable(keys: Collection[str], previous: str, following: str, counts: Callable[[], Mapping[str, int]]) -> bool:
    """Do these values at one position make distinct templates, rather than one variable?

    A few word-like values (a unit keeps them while they are few: `Tuning.split_max`), in a place
    where words are expected, that do not keep coming.
    `previous` and `following` are the neighbouring tokens; `counts` gives each value's evidence
    (its lines, see `evidence`), asked for only when the decision depends on it.
    """
    if len(keys) < 2 or not all(_wordlike(v) or symbol(v) for v in keys):
        return False
    # Values that are all booleans, calendar names or units are values whatever their number.
    if all(v.replace(WILDCARD, "").strip(_PUNCT).lower() in _VALUE_WORDS for v in keys):
        return False
    # Enum-style symbols (`RUNNING`, `FAILED`, `action:Intent.SCREEN_ON`) are the program's own
    # words, wherever they stand.
    if all(map(symbol, keys)):
        return True
    # Values that are all names by their look (`'sshd'`, `web_back`, `web01`, also inside the text
    # they share: `(web_back/HTTP)`) are data.
    if all(map(_named, keys)) or all(map(_named, _differing(keys))):
        return False
    # `key=a` / `key=b`: the same key with different values is one template.
    prefix = os.path.commonprefix(list(keys))
    if "=" in prefix or ":" in prefix:
        return False
    # Fields and calls built differently (`(uid=<*>)`, `LOGIN(`) are told apart by their shape,
    # whatever precedes them.
    if any("(" in v or "=" in v for v in keys) and len({_WORD_CHARS.sub("", v) for v in keys}) > 1:
        return True
    context = previous.strip(_PUNCT).lower()
    # `for invalid user x`: the name comes after the naming noun, not after the preposition.
    if context in _NAMING_WORDS and following.strip(_PUNCT).lower() not in _NAMING_NOUNS:
        return False
    placed = context in _PLACE_WORDS or previous.endswith("=")
    if not placed and len(keys) < SPLIT_OPEN:
        return True
    # A variable keeps bringing values seen once; a program's words repeat. Good-Turing: the
    # share of lines whose value was seen only once estimates how often the next line brings
    # a new value.
    seen = counts()
    once = sum(1 for c in seen.values() if c == 1)
    return once < SPLIT_NEW_RATE * sum(seen.values())


def _named(value: str) -> bool:
    """Does a value look like a name the program was given (see `_QUOTED_NAME`)?"""
    bare = value.rstrip(_TRAILING)
    return (
        _QUOTED_NAME.fullmatch(value) is not None
        or _SNAKE_NAME.fullmatch(bare) is not None
        or _NUMBERED_NAME.fullmatch(bare) is not None
    )


def _differing(values: Collection[str]) -> list[str]:
    """The parts of the values that differ, without the text they all start and end with (cut at
    punctuation: `(web_back/HTTP)`, `(api_back/HTTP)` -> `web_back`, `api_back`)."""
    words = list(values)
    head = os.path.commonprefix(words)
    tail = os.path.commonprefix([w[::-1] for w in words])[::-1]
    i = len(head)
    while i > 0 and (head[i - 1].isalnum() or head[i - 1] == "_"):
        i -= 1
    j = len(tail)
    while j > 0 and (tail[-j].isalnum() or tail[-j] == "_"):
        j -= 1
    return [w[i : len(w) - j] for w in words]


def evidence(count: int) -> int:
    """What a pattern's line count weighs as evidence: its largest power of two up to
    `EVIDENCE_CAP`, so a decision changes only when a count crosses one of a few steps."""
    return min(1 << (count.bit_length() - 1), EVIDENCE_CAP) if count > 0 else 0


def merge_token(a: str, b: str) -> str:
    """`<*>` for the differing part of two tokens, keeping a shared `key=` or brackets around it."""
    if a == b:
        return a
    if a == WILDCARD or b == WILDCARD:
        return WILDCARD
    # Wildcards already in the tokens count as one opaque character.
    a, b = a.replace(WILDCARD, "\0"), b.replace(WILDCARD, "\0")
    # Built alike (`root(uid=0)`, `alice(uid=1000)`): each differing part is a value of its own.
    parts_a, parts_b = _PARTS.findall(a), _PARTS.findall(b)
    if len(parts_a) == len(parts_b) and _STRUCTURE.search(a) is not None:
        parts = list(zip(parts_a, parts_b, strict=True))
        if all(x == y or (x[0] not in _STRUCTURE_CHARS and y[0] not in _STRUCTURE_CHARS) for x, y in parts):
            merged = "".join(x if x == y else _merge_chars(x, y) for x, y in parts)
            return _RUNS.sub("\0", merged).replace("\0", WILDCARD)
    return _merge_chars(a, b).replace("\0", WILDCARD)


def _merge_chars(a: str, b: str) -> str:
    """`\0` for where two texts differ, widened to the enclosing opener and closer they share."""
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
    return a[:i] + "\0" + a[len(a) - j :]


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
