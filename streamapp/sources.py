"""Which OS and line format a source has: SOURCE_FORMATS, or what its data source publishes (its
configured format, or for a file tail without one, the format inferred from its files)."""

from __future__ import annotations

import contextlib
import fnmatch
import functools
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from streamapp.errors import ConfigError
from streamapp.parsing import PRESETS, LineFormat

_PRESET_OS = {"linux": "linux", "macos": "macos", "windows": "windows", "json": "generic", "logfmt": "generic"}


@dataclass(frozen=True)
class SourceProfile:
    os: str
    format: LineFormat


def profile_from_spec(spec: str) -> SourceProfile:
    """`linux` | `macos` | `windows` | `json` | `logfmt` | `<os>:<preset or format string>`."""
    head, sep, rest = spec.partition(":")
    if sep and "<" not in head and head.strip():
        return SourceProfile(os=head.strip().lower(), format=LineFormat.from_spec(rest))
    name = spec.strip().lower()
    if name in PRESETS:
        return SourceProfile(os=_PRESET_OS[name], format=LineFormat.from_spec(name))
    return SourceProfile(os="generic", format=LineFormat.from_spec(spec))


class SourceProfiles:
    """Resolves a line's source (name, or `id:<data source id>`) to its profile: the first matching
    glob wins; when none matches, the last entry applies (conventionally `*`)."""

    def __init__(self, mapping: Mapping[str, str]) -> None:
        if not mapping:
            raise ConfigError("SOURCE_FORMATS: at least one entry is needed (e.g. {\"*\": \"linux\"})")
        try:
            self._rules = [(glob, profile_from_spec(spec)) for glob, spec in mapping.items()]
        except ConfigError as exc:
            raise ConfigError(f"SOURCE_FORMATS: {exc}") from None
        self.by_id: dict[str, SourceProfile] = {}
        self.resolve = functools.lru_cache(maxsize=4096)(self._resolve)

    def set_source_formats(self, specs: Mapping[str, str]) -> None:
        """Formats of data sources (by id) from their own configuration; they win over the globs.
        A spec that does not parse is skipped (its lines fall back to the globs)."""
        parsed = {}
        for sid, spec in specs.items():
            with contextlib.suppress(ConfigError):
                parsed[sid] = profile_from_spec(spec)
        if parsed != self.by_id:
            self.by_id = parsed
            self.resolve.cache_clear()

    def _resolve(self, source: str, source_id: str = "") -> SourceProfile:
        if source_id in self.by_id:
            return self.by_id[source_id]
        for glob, profile in self._rules:
            if fnmatch.fnmatchcase(source, glob) or (source_id and fnmatch.fnmatchcase(f"id:{source_id}", glob)):
                return profile
        return self._rules[-1][1]


class FormatLookups:
    """When a consumer reads the published formats again, having met lines of data sources it has
    no format for. At once for a source it has not looked up yet: its producer published the format
    in the transaction of its first lines, so it is there, and a batch holding several new sources
    must not parse them by the globs because another new source was looked up a moment before.
    For sources already looked up and still without one (a producer that publishes none), at most
    every `min_age_sec`, so they do not cost a read per batch. Bounded: past `size` source ids, the
    least recently met are forgotten (met again, they are looked up once more)."""

    def __init__(self, min_age_sec: float = 1.0, size: int = 10_000) -> None:
        self.min_age_sec, self.size = min_age_sec, size
        self._asked: OrderedDict[str, None] = OrderedDict()
        self.read_at = float("-inf")

    def due(self, unknown: Iterable[str], now: float) -> bool:
        """Whether to read now, for a batch with lines of these source ids without a format."""
        new = False
        for sid in unknown:
            if sid in self._asked:
                self._asked.move_to_end(sid)
            else:
                self._asked[sid] = None
                new = True
        while len(self._asked) > self.size:
            self._asked.popitem(last=False)
        return new or now - self.read_at >= self.min_age_sec
