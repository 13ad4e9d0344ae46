"""A bounded cache for keys drawn from log text, which mostly come once.

Most lines of a log carry a value that masking leaves (a user, a path, a port), so most lines (and
most masked shapes) are seen once: a cache that remembered every key filled with entries that never
answered, and paid for each one (on generated Linux syslog, 97-99% of the distinct lines and 89% of
the distinct shapes came once). `RepeatCache` keeps a key's value only from its second sighting on;
a first sighting is noted as the key's hash, a small int (a collision merely admits a key one
sighting early). Keys that come again keep nearly all their hits: all but the second sighting's.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class RepeatCache(Generic[K, V]):
    """At most `size` values and `size` first sightings; a full one is emptied, and `dropped`
    counts what that forgot."""

    __slots__ = ("_sighted", "_values", "dropped", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self.dropped = 0
        self._values: dict[K, V] = {}
        self._sighted: set[int] = set()

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: K) -> bool:
        return key in self._values

    def get(self, key: K) -> V | None:
        return self._values.get(key)

    def put(self, key: K, value: V) -> None:
        """Keep `value` for `key` if the key was seen before (a kept one is replaced), else note the key."""
        values = self._values
        if key not in values:
            sighted, digest = self._sighted, hash(key)
            if digest not in sighted:
                if len(sighted) >= self.size:
                    self.dropped += len(sighted)
                    sighted.clear()
                sighted.add(digest)
                return
            sighted.discard(digest)
            if len(values) >= self.size:
                self.dropped += len(values)
                values.clear()
        values[key] = value

    def sighted(self) -> int:
        """First sightings noted."""
        return len(self._sighted)
