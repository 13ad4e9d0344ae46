"""Rule signals: regex / keyword / template-id patterns mapped to a severity, a failure-type hint,
or `ignore`. Loaded from `rules.yml` (shipped, documented there). Matching is pure and cheap:
every pattern goes into one RE2 set, which finds all matching rules in a single linear scan of
the line (Python's backtracking `re` took ~250 us a line for the same rules; RE2 takes ~1 us)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import re2
import yaml

from streamapp.errors import ConfigError
from streamapp.taxonomy import FailureType, Severity, header_severity


@dataclass(frozen=True)
class Signal:
    """Why a line looks interesting: which rule (or the log level) said what."""

    rule_id: str
    severity: Severity
    failure_type: str = ""
    score: float = 0.5
    ignore: bool = False

    def as_json(self) -> dict:
        return {"rule": self.rule_id, "severity": str(self.severity), "failure_type": self.failure_type,
                "score": self.score, "ignore": self.ignore}


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    failure_type: str = ""
    score: float = 0.6
    ignore: bool = False
    pattern: str = ""
    template_ids: frozenset[str] = field(default_factory=frozenset)

    def signal(self) -> Signal:
        return Signal(self.id, self.severity, self.failure_type, self.score, self.ignore)


LEVEL_SCORE = 0.3


@dataclass
class RuleSet:
    rules: list[Rule]

    def __post_init__(self) -> None:
        self._text_rules = [r for r in self.rules if r.pattern]
        self._set = re2.Set.SearchSet(re2.Options())
        for r in self._text_rules:
            self._set.Add(r.pattern)
        self._set.Compile()
        self._by_template: dict[str, list[Rule]] = {}
        for r in self.rules:
            for tid in r.template_ids:
                self._by_template.setdefault(tid, []).append(r)

    def match(self, message: str, template_id: str = "", level: str | None = None) -> list[Signal]:
        """Every signal for one line: matching rules, then the log level if it is warning or worse."""
        signals = [r.signal() for r in self._by_template.get(template_id, ())]
        hits = self._set.Match(message) if self._text_rules else None
        if hits:
            signals.extend(self._text_rules[i].signal() for i in sorted(hits))
        sev = header_severity(level) or Severity.INFO
        if sev.rank >= Severity.WARNING.rank:
            signals.append(Signal("level", sev, "", LEVEL_SCORE))
        return signals

    @classmethod
    def from_yaml(cls, text: str, origin: str = "rules.yml") -> RuleSet:
        try:
            doc = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{origin}: not valid YAML: {exc}") from None
        entries = doc.get("rules") if isinstance(doc, dict) else None
        if not isinstance(entries, list):
            raise ConfigError(f"{origin}: expected a top-level `rules:` list")
        rules, seen = [], set()
        for i, entry in enumerate(entries):
            rule = _parse_rule(entry, f"{origin}: rule #{i + 1}")
            if rule.id in seen:
                raise ConfigError(f"{origin}: duplicate rule id {rule.id!r}")
            seen.add(rule.id)
            rules.append(rule)
        return cls(rules)

    @classmethod
    def load(cls, path: Path | None = None) -> RuleSet:
        """The given rules file, or the shipped `streamapp/rules.yml`."""
        if path is not None:
            return cls.from_yaml(Path(path).read_text(), str(path))
        return cls.from_yaml(resources.files("streamapp").joinpath("rules.yml").read_text(), "rules.yml")


def _parse_rule(entry: object, where: str) -> Rule:
    if not isinstance(entry, dict) or not entry.get("id"):
        raise ConfigError(f"{where}: each rule needs an `id`")
    where = f"{where} ({entry['id']})"
    unknown = set(entry) - {"id", "regex", "keywords", "template_ids", "severity", "failure_type", "score",
                            "ignore", "description"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    parts = []
    if entry.get("regex"):
        parts.append(str(entry["regex"]))
    if entry.get("keywords"):
        parts.append(r"\b(?:" + "|".join(re.escape(str(k)) for k in entry["keywords"]) + r")\b")
    pattern = ""
    if parts:
        pattern = "(?i:" + "|".join(parts) + ")"
        try:
            re2.compile(pattern)
        except re2.error as exc:
            raise ConfigError(f"{where}: bad regex (RE2 syntax: no backreferences or lookaround): {exc}") from None
    template_ids = frozenset(str(t) for t in entry.get("template_ids") or ())
    if not pattern and not template_ids:
        raise ConfigError(f"{where}: needs `regex`, `keywords` or `template_ids`")
    failure = str(entry.get("failure_type") or "")
    if failure and failure not in FailureType.__members__.values():
        raise ConfigError(f"{where}: unknown failure_type {failure!r}")
    sev = str(entry.get("severity") or "info")
    if sev not in Severity.__members__.values():
        raise ConfigError(f"{where}: unknown severity {sev!r}")
    score = float(entry.get("score", 0.6))
    if not 0 <= score <= 1:
        raise ConfigError(f"{where}: score must be within 0..1")
    return Rule(
        id=str(entry["id"]), severity=Severity(sev), failure_type=failure, score=score,
        ignore=bool(entry.get("ignore", False)), pattern=pattern, template_ids=template_ids,
    )
