"""The values a message gives a template's wildcards, by walking both token by token."""

from __future__ import annotations

import re
from functools import lru_cache

from streamapp.mining.masking import WILDCARD


@lru_cache(maxsize=4096)
def _token_regex(token: str) -> re.Pattern[str]:
    """`uid=<*>` -> `^uid=(.*?)$` (compiled once per template token)."""
    return re.compile("^" + "(.*?)".join(map(re.escape, token.split(WILDCARD))) + "$", re.S)


def parameters(template: str, message: str) -> tuple[str, ...]:
    """Values of the wildcards of `template` in `message` (a wildcard may span several tokens)."""
    tpl = template.split()
    msg = message.split()
    out: list[str] = []
    i = 0
    for j, tok in enumerate(tpl):
        if i >= len(msg):
            break
        if tok == WILDCARD:
            # A wildcard takes tokens up to the next constant token of the template.
            nxt = tpl[j + 1] if j + 1 < len(tpl) else None
            end = len(msg) if nxt is None else i + 1
            if nxt is not None and WILDCARD not in nxt:
                while end < len(msg) and msg[end] != nxt:
                    end += 1
            out.append(" ".join(msg[i:end]))
            i = end
            continue
        if WILDCARD in tok:
            m = _token_regex(tok).match(msg[i])
            if m is not None:
                out.extend(m.groups())
        i += 1
    return tuple(out)
