"""Template parameters in a log line (pure): where a template's wildcards sit in the raw text, so
the console can mark them. The spans are computed here and rendered as text by the templates, never
as markup: log text is attacker-controlled, so every regex here runs on RE2 (linear time); a token
with several wildcards as lazy groups in Python's `re` took seconds on one long word."""

from __future__ import annotations

import re
from functools import lru_cache

import re2

from streamapp.mining.masking import WILDCARD

MAX_CHARS = 8192  # longer lines are shown without highlighting
MAX_TOKENS = 512

Span = tuple[int, int]
_TOKEN = re.compile(r"\S+")


@lru_cache(maxsize=4096)
def _token_regex(token: str) -> re2._Regexp:
    """`uid=<*>` -> `^uid=(.*?)$`: a template token with a value glued to a constant."""
    return re2.compile("(?s)^" + "(.*?)".join(map(re2.escape, token.split(WILDCARD))) + "$")


def parameter_spans(template: str, text: str) -> list[Span]:
    """Character spans of `text` that fill the wildcards of `template`, in order; empty when the
    template does not match. The template may match the whole text or a suffix of it (a syslog
    header precedes the message the miner saw)."""
    if not template or not text or len(text) > MAX_CHARS:
        return []
    tpl = template.split()
    if WILDCARD not in template:
        return []
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    if len(tokens) > MAX_TOKENS or len(tpl) > MAX_TOKENS:
        return []
    for start in range(len(tokens)):
        spans = _match(tpl, text, tokens, start)
        if spans is not None:
            return spans
    return []


def _match(tpl: list[str], text: str, tokens: list[Span], i: int) -> list[Span] | None:
    """Spans when `tpl` matches tokens[i:] to the end, else None."""
    spans: list[Span] = []
    n = len(tokens)
    for j, tok in enumerate(tpl):
        if i >= n:
            return None
        if tok == WILDCARD:
            nxt = tpl[j + 1] if j + 1 < len(tpl) else None
            if nxt is None:
                end = n  # the last wildcard takes the rest of the line
            elif WILDCARD in nxt:
                end = i + 1
            else:
                end = i + 1
                while end < n and text[tokens[end][0]:tokens[end][1]] != nxt:
                    end += 1
                if end == n:
                    return None
            spans.append((tokens[i][0], tokens[end - 1][1]))
            i = end
            continue
        word = text[tokens[i][0]:tokens[i][1]]
        if WILDCARD in tok:
            m = _token_regex(tok).match(word)
            if m is None:
                return None
            base = tokens[i][0]
            spans.extend((base + a, base + b) for a, b in (m.span(g) for g in range(1, m.re.groups + 1)) if b > a)
        elif word != tok:
            return None
        i += 1
    return spans if i == n else None


def segments(template: str, text: str) -> list[tuple[str, bool]]:
    """`text` cut into (piece, is_parameter) pieces for rendering; one plain piece when nothing matches."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for a, b in parameter_spans(template, text):
        if a > pos:
            out.append((text[pos:a], False))
        out.append((text[a:b], True))
        pos = b
    if pos < len(text) or not out:
        out.append((text[pos:], False))
    return out
