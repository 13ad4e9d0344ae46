"""The consumer's per-line work, pure CPU: parse each line by its source's format, give a
continuation line its headline's key (`continuation`), mine its template (one miner per OS, fed a
whole batch at once), and attach rule signals."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from streamapp.continuation import Headline, Headlines, header_is_noise
from streamapp.mining import MineResult, TemplateChange, TemplateMiner
from streamapp.parsing import ParsedLine, parse_line
from streamapp.parsing.fields import unmatched
from streamapp.records import PAYLOAD_LIMIT, DeadLetter, ParsedEvent, RawLine
from streamapp.rules import RuleSet
from streamapp.sources import SourceProfiles
from streamapp.taxonomy import Severity, max_severity


@dataclass
class Processed:
    """What one batch became."""

    events: list[ParsedEvent] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    changes: dict[str, list[TemplateChange]] = field(default_factory=dict)  # per OS
    unmatched: int = 0  # lines no header fit (mined whole)
    evicted: int = 0  # miner clusters dropped at their bound


@dataclass
class LineProcessor:
    profiles: SourceProfiles
    rules: RuleSet
    miners: dict[str, TemplateMiner] = field(default_factory=dict)
    headlines: Headlines = field(default_factory=Headlines)
    max_clusters: int | None = None  # per miner (None: unbounded, for a finite input)

    def miner(self, os: str) -> TemplateMiner:
        if os not in self.miners:
            self.miners[os] = TemplateMiner(max_clusters=self.max_clusters)
        return self.miners[os]

    def process(self, lines: Sequence[RawLine], now: float) -> Processed:
        out = Processed()
        by_os: dict[str, list[tuple[RawLine, ParsedLine, Headline | None]]] = defaultdict(list)
        for line in lines:
            profile = self.profiles.resolve(line.source, line.source_id)
            parsed = parse_line(line.line, profile.format)
            out.unmatched += not parsed.matched
            head = self.headlines.follow(f"{line.source_id}\x00{line.source}", line.id, line.line, parsed, now)
            if head is not None and parsed.matched and header_is_noise(line.line, parsed):
                parsed = unmatched(line.line)  # what a loose format string took for a header is the line itself
            by_os[profile.os].append((line, parsed, head))
        for os, items in by_os.items():
            miner = self.miner(os)
            evicted = miner.evicted
            results = miner.add_many([p.message for _, p, _ in items])
            out.evicted += miner.evicted - evicted
            for (line, parsed, head), result in zip(items, results, strict=True):
                if result.template_id is None:
                    out.dead.append(dead_letter(line, f"rejected by miner: {result.rejected}", now))
                    continue
                out.events.append(self._event(line, parsed, os, result, now, head))
                if result.changes:
                    out.changes.setdefault(os, []).extend(result.changes)
        return out

    def _event(self, line: RawLine, parsed: ParsedLine, os: str, result: MineResult, now: float,
               head: Headline | None) -> ParsedEvent:
        level = parsed.level or (head.level if head else "")
        signals = self.rules.match(parsed.message, result.template_id or "", level)
        loud = [s for s in signals if not s.ignore]
        severity = max_severity(Severity.INFO, *(s.severity for s in loud)) if loud else Severity.INFO
        key = head or parsed  # a continuation line is filed under its headline's key
        return ParsedEvent(
            id=line.id, source=line.source, source_id=line.source_id, os=os,
            host=key.host or "", component=key.component or "", pid=key.pid or "", level=level,
            timestamp=parsed.timestamp or "", t=now, headline=head.line_id if head else "",
            template_id=result.template_id or "", template=result.template, params=list(result.parameters),
            raw=line.line, severity=str(severity), signals=[s.as_json() for s in signals],
        )


def dead_letter(line: RawLine, reason: str, now: float | None = None) -> DeadLetter:
    return DeadLetter.of("consumer", line.id, prefix="logs", stream="logs", reason=reason,
                         payload=line.line[:PAYLOAD_LIMIT], at=now if now is not None else time.time())
