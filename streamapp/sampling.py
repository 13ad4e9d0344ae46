"""Which lines go into the vector store. Embedded Chroma takes about 2,000 inserts/s on this kind
of machine, far below the stream's rate, and lines repeat a few templates endlessly (a brute
force attack is thousands of one auth-failure template). So only the first lines per (host,
template) in each time window are indexed: a generous quota for lines with a signal, a small one
for routine lines. Retrieval keeps every distinct behaviour at a fraction of the writes; issues
carry their own lines, so nothing an alert cites depends on this."""

from __future__ import annotations

from dataclasses import dataclass, field

from streamapp.records import ParsedEvent
from streamapp.taxonomy import Severity


@dataclass
class IndexSampler:
    window_sec: float = 60.0
    per_window: int = 3
    signal_per_window: int = 20
    _window: int = -1
    _seen: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def keep(self, ev: ParsedEvent) -> bool:
        loud = Severity(ev.severity).rank >= Severity.WARNING.rank or any(not s.get("ignore") for s in ev.signals)
        window = int(ev.t // self.window_sec)
        if window != self._window:  # a new window: forget the old counts (bounded memory)
            self._window, self._seen = window, {}
        k = (ev.os, ev.host, ev.template_id)
        n = self._seen.get(k, 0)
        self._seen[k] = n + 1
        return n < (self.signal_per_window if loud else self.per_window)
