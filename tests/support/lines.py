"""Made-up log lines for tests of bounds."""

from __future__ import annotations

import random
import string


def distinct_lines(n: int, seed: int = 7) -> list[str]:
    """Lines of letters only that share no word: each founds a template (and a cluster) of its own."""
    rng = random.Random(seed)
    pool = sorted({"".join(rng.choices(string.ascii_lowercase, k=9)) for _ in range(n * 6)})
    rng.shuffle(pool)
    return [" ".join(pool[6 * i : 6 * i + 6]) for i in range(n)]
