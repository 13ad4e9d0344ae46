"""Payload templates: `{{ field }}` placeholders over a whitelist of alert fields, nothing else.

Rule files are operator text; alert values come from log lines and classifier output, so they are
untrusted. A template is parsed once, when the rules load (an unknown field or any other template
syntax is rejected there, with its line), and rendering substitutes values in a single pass: a value
is never parsed again, by us or by the next system. Each value is made inert first: control and
bidi characters become spaces, it is cut to `MAX_VALUE_CHARS`, and after substitution every
template opener of the systems we feed (Jinja/Ansible `{{ {% {#`, HCL and ServiceNow `${`, HCL
`%{`) and ServiceNow's `javascript:` prefix is broken with a space. Values travel as JSON strings
(never shell, never URL paths), so shell metacharacters and `../` stay plain text.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass

from streamapp.records import Alert

MAX_VALUE_CHARS = 500
EVIDENCE_LINES = 3
EVIDENCE_LINE_CHARS = 300

# The alert fields a template may use, and what each holds.
FIELDS: dict[str, str] = {
    "alert_id": "the alert's id",
    "rule_id": "the automation rule's id",
    "type": "`issue` or `cluster`",
    "os": "the alert's OS",
    "host": "the host the issue came from (empty for clusters)",
    "component": "the component (program) of the issue",
    "failure_type": "the verdict's failure type",
    "severity": "the verdict's severity",
    "confidence": "the verdict's confidence, two decimals",
    "issue_key": "`<os>|<component>|<pid>` of an issue alert",
    "cluster_id": "the cluster of a cluster alert",
    "summary": "the verdict's one-line summary",
    "root_cause": "the verdict's root-cause hypothesis",
    "recommended_action": "the verdict's recommended action",
    "classifier": "which classifier decided (`offline-v1`, `llm:<model>`)",
    "prototype_id": "the prototype the alert belongs to",
    "evidence": f"up to {EVIDENCE_LINES} raw evidence lines, one per line (cluster alerts)",
    "created_at": "when the alert was raised (ISO 8601, UTC)",
}

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_FOREIGN_SYNTAX = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}|\$\{|%\{")
_OPENER = re.compile(r"\{(?=[{%#])|[$%](?=\{)|(?i:javascript)(?=:)")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class TemplateError(ValueError):
    """A template uses syntax other than `{{ field }}`, or a field that is not whitelisted."""


@dataclass(frozen=True)
class Template:
    """Literal text and field names, alternating: `parts[0]`, field, `parts[2]`, field, ..."""

    parts: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Template:
        parts: list[str] = []
        pos = 0
        for m in _PLACEHOLDER.finditer(text):
            parts += [_literal(text[pos : m.start()]), _field(m[1])]
            pos = m.end()
        parts.append(_literal(text[pos:]))
        return cls(tuple(parts))

    @property
    def fields(self) -> tuple[str, ...]:
        return self.parts[1::2]

    def render(self, values: Mapping[str, str]) -> str:
        out = [part if i % 2 == 0 else _value(part, values.get(part, "")) for i, part in enumerate(self.parts)]
        # Literals hold no opener (checked at parse), so this only breaks what values brought,
        # including an opener split across a literal and a value (`$` + `{...`).
        return break_openers("".join(out))


def _literal(text: str) -> str:
    m = _FOREIGN_SYNTAX.search(text)
    if m:
        raise TemplateError(f"{m[0]!r}: only {{{{ field }}}} placeholders are allowed")
    return text


def _field(name: str) -> str:
    if name not in FIELDS:
        raise TemplateError(f"unknown field {name!r} (allowed: {', '.join(FIELDS)})")
    return name


def inert(value: str, limit: int = MAX_VALUE_CHARS) -> str:
    """One value made safe to embed: printable, single-line, bounded."""
    return _UNPRINTABLE.sub(" ", value)[:limit]


def _value(name: str, value: str) -> str:
    if name == "evidence":  # the one value that keeps line breaks: one per evidence line
        return "\n".join(inert(line, EVIDENCE_LINE_CHARS) for line in value.split("\n")[:EVIDENCE_LINES])
    return inert(value)


def break_openers(text: str) -> str:
    return _OPENER.sub(lambda m: m[0] + " ", text)


def alert_values(alert: Alert, rule_id: str) -> dict[str, str]:
    """The whitelisted fields of an alert as strings (the only data a template can reach)."""
    result = alert.result if isinstance(alert.result, dict) else {}
    evidence = [str(item.get("raw", "")) for item in alert.evidence_logs[:EVIDENCE_LINES] if isinstance(item, dict)]
    created = datetime.datetime.fromtimestamp(alert.created_at, datetime.UTC).isoformat() if alert.created_at else ""
    return {
        "alert_id": alert.id, "rule_id": rule_id, "type": alert.type, "os": alert.os, "host": alert.host,
        "component": alert.component, "failure_type": alert.failure_type, "severity": alert.severity,
        "confidence": f"{alert.confidence:.2f}", "issue_key": alert.issue_key, "cluster_id": alert.cluster_id,
        "summary": alert.summary or str(result.get("summary", "")),
        "root_cause": str(result.get("root_cause_hypothesis", "")),
        "recommended_action": str(result.get("recommended_action", "")), "classifier": alert.classifier,
        "prototype_id": alert.prototype_id, "evidence": "\n".join(evidence), "created_at": created,
    }
