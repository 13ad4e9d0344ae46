"""Which lines go into the vector store. Embedded Chroma takes about 2,000 inserts/s on this kind
of machine (bench/pipeline_bench.py), far below the stream's rate, and routine lines repeat a few
templates endlessly. So every line with a signal is indexed, and of routine lines only the first
few per (host, template) in each time window: retrieval keeps every distinct behaviour, at a
fraction of the writes."""

from __future__ import annotations

from dataclasses import dataclass, field

from streamapp.records import ParsedEvent
from streamapp.taxonomy import Severity


@dataclass
class IndexSampler:
    window_sec: float = 60.0
    per_window: int = 3
    _window: int = -1
    _seen: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def keep(self, ev: ParsedEvent) -> bool:
        if Severity(ev.severity).rank >= Severity.WARNING.rank or any(not s.get("ignore") for s in ev.signals):
            return True
        window = int(ev.t // self.window_sec)
        if window != self._window:  # a new window: forget the old counts (bounded memory)
            self._window, self._seen = window, {}
        k = (ev.os, ev.host, ev.template_id)
        n = self._seen.get(k, 0)
        self._seen[k] = n + 1
        return n < self.per_window
