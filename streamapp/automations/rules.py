"""Automation rules, pure: which alerts a rule matches, the action it renders for an alert, how
often it may act (cooldown) and for what (scope). `streamapp.automations.parse` builds them from
`automations.yml`; the automations agent runs them."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from streamapp.automations.render import Template, alert_values
from streamapp.errors import StreamAppError
from streamapp.records import Alert
from streamapp.taxonomy import Severity

Scope = Literal["rule", "host", "issue_key"]
SCOPES: tuple[str, ...] = ("rule", "host", "issue_key")
# What an AWX `limit` may become: one host name or address, never a pattern (`all`, `!x`, `a:b`).
_HOSTNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,252}")
_IMPLICIT_GROUPS = frozenset({"all", "ungrouped"})
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]+")
MAX_CORRELATION_CHARS = 100  # ServiceNow's correlation_id column
SHORT_DESCRIPTION_CHARS = 160
MAX_SCOPE_KEY_CHARS = 200


class UnsafeValue(StreamAppError):
    """A rendered value cannot be used where it goes (e.g. an AWX limit that is not one host)."""


def alert_labels(alert: Alert) -> dict[str, str]:
    """What `match.labels` sees: the alert's descriptive fields, plus `result.labels` when a
    classifier or operator set string labels there."""
    result = alert.result if isinstance(alert.result, dict) else {}
    extra = result.get("labels")
    extra = extra if isinstance(extra, dict) else {}
    return {
        **{str(k): str(v) for k, v in extra.items() if isinstance(v, str | int | float | bool)},
        "classifier": alert.classifier, "hardware": "true" if alert.is_hardware_failure else "false",
        "prototype_id": alert.prototype_id, "cluster_id": alert.cluster_id, "issue_key": alert.issue_key,
    }


def _glob(value: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(value.lower(), p.lower()) for p in patterns)


@dataclass(frozen=True)
class Match:
    """Every condition given must hold; an empty condition holds for any alert. Lists mean any of."""

    failure_types: frozenset[str] = frozenset()
    min_severity: Severity = Severity.DEBUG
    min_confidence: float = 0.0
    os: frozenset[str] = frozenset()
    hosts: tuple[str, ...] = ()  # globs
    components: tuple[str, ...] = ()  # globs
    alert_types: frozenset[str] = frozenset()
    labels: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (label, globs)

    def __call__(self, alert: Alert) -> bool:
        if self.failure_types and alert.failure_type not in self.failure_types:
            return False
        if Severity.parse(alert.severity).rank < self.min_severity.rank or alert.confidence < self.min_confidence:
            return False
        if (self.os and alert.os.lower() not in self.os) or (self.alert_types and alert.type not in self.alert_types):
            return False
        if (self.hosts and not _glob(alert.host, self.hosts)) or (
            self.components and not _glob(alert.component, self.components)
        ):
            return False
        labels = alert_labels(alert) if self.labels else {}
        return all(name in labels and _glob(labels[name], globs) for name, globs in self.labels)


def _render_map(templates: Mapping[str, Template | Any], values: Mapping[str, str]) -> dict[str, Any]:
    """Templates rendered; literal numbers and booleans from the rule kept as they are."""
    return {k: t.render(values) if isinstance(t, Template) else t for k, t in templates.items()}


def hcl_string(text: str) -> str:
    """An HCL string literal (Terraform run variables are HCL, not plain strings)."""
    return json.dumps(text, ensure_ascii=False).replace("${", "$${").replace("%{", "%%{")


@dataclass(frozen=True)
class AwxJob:
    """Launch an AWX/Tower job template; extra vars and the limit are rendered per alert."""

    kind: ClassVar[str] = "awx_job_template"
    provider: ClassVar[str] = "awx"
    template_id: int
    extra_vars: dict[str, Any] = field(default_factory=dict)
    limit: Template | None = None

    def render(self, values: Mapping[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {"template_id": self.template_id, "extra_vars": _render_map(self.extra_vars, values)}
        if self.limit is not None:
            limit = self.limit.render(values)
            if not _HOSTNAME.fullmatch(limit) or limit.lower() in _IMPLICIT_GROUPS:
                raise UnsafeValue(f"limit {limit[:80]!r} is not a single host name; refusing to launch")
            out["limit"] = limit
        return out


@dataclass(frozen=True)
class TerraformRun:
    """Queue a Terraform Cloud run on a workspace (by id, or organization + name)."""

    kind: ClassVar[str] = "terraform_run"
    provider: ClassVar[str] = "terraform"
    message: Template
    workspace_id: str = ""
    organization: str = ""
    workspace: str = ""
    auto_apply: bool | None = None
    variables: dict[str, Template] = field(default_factory=dict)

    def render(self, values: Mapping[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message.render(values)[:500]}
        if self.workspace_id:
            out["workspace_id"] = self.workspace_id
        else:
            out["organization"], out["workspace"] = self.organization, self.workspace
        if self.auto_apply is not None:
            out["auto_apply"] = self.auto_apply
        if self.variables:
            rendered = _render_map(self.variables, values)
            out["variables"] = [{"key": k, "value": hcl_string(v)} for k, v in rendered.items()]
        return out


@dataclass(frozen=True)
class ServiceNowIncident:
    """Open a ServiceNow incident with these fields (reference fields are literal, never rendered)."""

    kind: ClassVar[str] = "servicenow_incident"
    provider: ClassVar[str] = "servicenow"
    fields: dict[str, Any]

    def render(self, values: Mapping[str, str]) -> dict[str, Any]:
        out = {k: str(v) for k, v in _render_map(self.fields, values).items()}
        if "short_description" in out:
            out["short_description"] = out["short_description"][:SHORT_DESCRIPTION_CHARS]
        return {"fields": out}


Action = AwxJob | TerraformRun | ServiceNowIncident
ACTION_KINDS: dict[str, type[Action]] = {a.kind: a for a in (AwxJob, TerraformRun, ServiceNowIncident)}


@dataclass(frozen=True)
class AutomationRule:
    id: str
    match: Match
    action: Action
    cooldown_sec: float
    scope: Scope = "rule"
    execute: bool = False
    llm_only: bool = False  # may act on a verdict only an LLM supports
    description: str = ""
    line: int = 0

    def scope_key(self, alert: Alert) -> str:
        """The cooldown key: per rule, per (rule, host), or per (rule, issue key or cluster)."""
        if self.scope == "host":
            key = f"{self.id}|host={alert.host.lower() or '-'}"
        elif self.scope == "issue_key":
            key = f"{self.id}|issue={alert.issue_key or alert.cluster_id or alert.id}"
        else:
            key = self.id
        if len(key) > MAX_SCOPE_KEY_CHARS:
            key = f"{self.id}|{self.scope}#{_digest(key)}"
        return key

    def render(self, alert: Alert) -> dict[str, Any]:
        """What the provider is sent for this alert (also what a dry run records)."""
        return self.action.render(alert_values(alert, self.id))


@dataclass(frozen=True)
class RuleBook:
    """A validated rules file: its rules in file order and a version (digest of the text)."""

    rules: tuple[AutomationRule, ...]
    version: str

    def get(self, rule_id: str) -> AutomationRule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def matching(self, alert: Alert) -> list[AutomationRule]:
        return [r for r in self.rules if r.match(alert)]


def correlation_id(rule_id: str, alert_id: str) -> str:
    """The idempotency key of one rule acting on one alert: ServiceNow's `correlation_id`, an AWX
    extra var, a marker in a Terraform run message. Safe characters only (it goes into query
    strings such as ServiceNow's encoded queries), so an alert id with others is digested."""
    key = f"streamapp:{rule_id}:{alert_id}"
    if _SAFE_ID.fullmatch(alert_id) and len(key) <= MAX_CORRELATION_CHARS:
        return key
    return f"streamapp:{rule_id}:h{_digest(alert_id)}"


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()
