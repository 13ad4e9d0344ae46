"""The classification schema: what any classifier (LLM or offline) must answer about an issue or a
cluster, as a JSON schema for structured output and as a validated value for the pipeline; and what
a verdict means downstream: its cache key and cached form, corroboration by the offline classifier,
whether it is worth an alert."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from streamapp.taxonomy import FailureType, Severity

PROMPT_VERSION = "v2"

VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "failure_type", "severity", "confidence", "summary", "root_cause_hypothesis", "recommended_action",
        "evidence",
    ],
    "properties": {
        "failure_type": {"type": "string", "enum": [str(f) for f in FailureType]},
        "severity": {"type": "string", "enum": [str(s) for s in Severity]},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "summary": {"type": "string", "description": "One sentence an on-call engineer reads first."},
        "root_cause_hypothesis": {"type": "string"},
        "recommended_action": {"type": "string"},
        "evidence": {
            "type": "object",
            "additionalProperties": False,
            "required": ["line_ids", "template_ids"],
            "properties": {
                "line_ids": {"type": "array", "items": {"type": "string"}},
                "template_ids": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
}


class InvalidVerdict(ValueError):
    """A classifier's answer does not fit the schema; the message says which field."""


@dataclass(frozen=True)
class Verdict:
    failure_type: FailureType
    severity: Severity
    confidence: float
    summary: str
    root_cause_hypothesis: str = ""
    recommended_action: str = ""
    line_ids: tuple[str, ...] = ()
    template_ids: tuple[str, ...] = ()
    classifier: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_hardware_failure(self) -> bool:
        return self.failure_type.is_hardware

    def as_result(self) -> dict[str, Any]:
        """The alert's `result` field: the whole classification as JSON."""
        out = asdict(self)
        out["failure_type"] = str(self.failure_type)
        out["severity"] = str(self.severity)
        out["evidence"] = {"line_ids": list(self.line_ids), "template_ids": list(self.template_ids)}
        out["is_hardware_failure"] = self.is_hardware_failure
        out.pop("line_ids")
        out.pop("template_ids")
        return out


def parse_verdict(
    obj: Any, *, classifier: str, known_line_ids: Iterable[str] = (), known_template_ids: Iterable[str] = ()
) -> Verdict:
    """Validate an answer against the schema. Evidence ids the classifier invented (not among
    the ids it was shown) are dropped rather than trusted."""
    if not isinstance(obj, Mapping):
        raise InvalidVerdict("answer is not a JSON object")
    try:
        failure = FailureType(str(obj["failure_type"]).strip().lower())
    except (KeyError, ValueError):
        raise InvalidVerdict(f"failure_type must be one of the taxonomy, got {obj.get('failure_type')!r}") from None
    try:
        severity = Severity(str(obj["severity"]).strip().lower())
    except (KeyError, ValueError):
        allowed = [str(s) for s in Severity]
        raise InvalidVerdict(f"severity must be one of {allowed}, got {obj.get('severity')!r}") from None
    try:
        confidence = float(obj["confidence"])
    except (KeyError, TypeError, ValueError):
        raise InvalidVerdict("confidence must be a number") from None
    if not 0.0 <= confidence <= 1.0:
        raise InvalidVerdict(f"confidence must be within 0..1, got {confidence}")
    summary = obj.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        raise InvalidVerdict("summary must be a non-empty string")
    evidence = obj.get("evidence") or {}
    if not isinstance(evidence, Mapping):
        raise InvalidVerdict("evidence must be an object")
    lines, templates = set(known_line_ids), set(known_template_ids)
    return Verdict(
        failure_type=failure,
        severity=severity,
        confidence=confidence,
        summary=summary.strip()[:500],
        root_cause_hypothesis=str(obj.get("root_cause_hypothesis") or "")[:2000],
        recommended_action=str(obj.get("recommended_action") or "")[:2000],
        line_ids=tuple(str(i) for i in evidence.get("line_ids") or () if not lines or str(i) in lines),
        template_ids=tuple(str(i) for i in evidence.get("template_ids") or () if not templates or str(i) in templates),
        classifier=classifier,
    )


def cache_key(subject: Iterable[str], model: str) -> str:
    """Same templates (or the same prototype), same prompt version, same model: same verdict."""
    basis = "|".join(sorted(subject)) + f"|{PROMPT_VERSION}|{model}"
    return "verdict:" + hashlib.blake2b(basis.encode(), digest_size=16).hexdigest()


def verdict_to_cache(verdict: Verdict) -> str:
    return json.dumps({**verdict.as_result(), "classifier": verdict.classifier})


def verdict_from_cache(raw: str | bytes, line_ids: Sequence[str], template_ids: Sequence[str]) -> Verdict:
    """A cached verdict applied to a new occurrence: its evidence re-pointed at this issue's lines
    (the cached ids belong to the issue that paid for the LLM call)."""
    data = json.loads(raw)
    cited = set(data["evidence"]["template_ids"]) & set(template_ids)
    return Verdict(
        failure_type=FailureType(data["failure_type"]), severity=Severity(data["severity"]),
        confidence=float(data["confidence"]), summary=data["summary"],
        root_cause_hypothesis=data.get("root_cause_hypothesis", ""),
        recommended_action=data.get("recommended_action", ""), line_ids=tuple(line_ids[:10]),
        template_ids=tuple(cited or template_ids[:5]), classifier=f"{data.get('classifier', '')}+cache",
    )


def corroborate(llm: Verdict, offline: Verdict) -> Verdict:
    """An LLM's verdict, marked `llm_only` unless the offline classifier (rules and the words of
    the lines) reaches the same failure type: text in a prompt can talk an LLM into a verdict, so
    automations act on such a verdict only where a rule allows it."""
    return replace(llm, extra={**llm.extra, "llm_only": offline.failure_type != llm.failure_type})


def llm_only(verdict: Verdict) -> bool:
    """Only an LLM supports this verdict (an operator's label on a close prototype does)."""
    return bool(verdict.extra.get("llm_only")) and "+operator-label" not in verdict.classifier


def worth_alerting(verdict: Verdict) -> bool:
    """Benign verdicts are recorded on the issue, not raised as alerts."""
    return verdict.failure_type is not FailureType.BENIGN
