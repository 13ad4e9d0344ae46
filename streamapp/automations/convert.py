"""The original system's automation rules (`provider` + `params`) as our `automations.yml`.

What is read (a `rules:` list, or the list itself; the README's "Coming from the original" shows
an example):

    name (or id)            -> id (other characters become `-`)
    description             -> description
    enabled: false          -> the rule is left out (and said so)
    match (or when):        failure_type, severity|min_severity, confidence|min_confidence, os,
                            host|host_pattern, component, type|alert_type, is_hardware_failure
                            (-> labels.hardware), labels
    provider + params:      awx|tower|ansible_tower|ansible: job_template_id|template_id|id,
                              extra_vars, limit                        -> awx_job_template
                            terraform|tfc|terraform_cloud: workspace_id, or organization and
                              workspace|workspace_name; message, auto_apply, variables -> terraform_run
                            servicenow|snow: short_description, description, urgency, impact,
                              category, subcategory, assignment_group, caller_id, cmdb_ci,
                              business_service, contact_type          -> servicenow_incident
    cooldown                -> cooldown.duration (a bare number is seconds: the original read
                            `"900"` as 90 s, a bug; the converted rule means what was written)
    cooldown_scope|scope    -> cooldown.scope (rule, host, issue_key; default rule)
    dry_run / execute       -> execute (default false: a dry run)

Placeholders `{host}`, `{alert.host}`, `{{ host }}`, `{{ alert.host }}` become `{{ host }}` for the
fields our templates know (`root_cause_hypothesis` -> `root_cause`, `id` -> `alert_id`). Anything
else is refused with the rule and key named, never guessed. The output is checked by the same
parser the worker uses before it is returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from streamapp.automations.parse import parse_rules
from streamapp.automations.render import FIELDS
from streamapp.errors import ConfigError

PROVIDERS = {
    "awx": "awx_job_template", "tower": "awx_job_template", "ansible_tower": "awx_job_template",
    "ansible": "awx_job_template", "terraform": "terraform_run", "tfc": "terraform_run",
    "terraform_cloud": "terraform_run", "servicenow": "servicenow_incident", "snow": "servicenow_incident",
}
RULE_KEYS = {"name", "id", "description", "enabled", "match", "when", "provider", "params", "cooldown",
             "cooldown_scope", "scope", "dry_run", "execute"}
MATCH_KEYS = {"failure_type": "failure_type", "severity": "min_severity", "min_severity": "min_severity",
              "confidence": "min_confidence", "min_confidence": "min_confidence", "os": "os", "host": "host",
              "host_pattern": "host", "component": "component", "type": "alert_type", "alert_type": "alert_type",
              "labels": "labels"}
FIELD_NAMES = {**{f: f for f in FIELDS}, "root_cause_hypothesis": "root_cause", "id": "alert_id"}
SN_FIELDS = ("short_description", "description", "category", "subcategory", "urgency", "impact",
             "assignment_group", "caller_id", "cmdb_ci", "business_service", "contact_type")
_PLACEHOLDER = re.compile(r"\{\{\s*(?:alert\.)?([A-Za-z_]\w*)\s*\}\}|\{(?:alert\.)?([A-Za-z_]\w*)\}")
_ID_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


class ConvertError(ConfigError):
    """The old rules cannot be converted: the message names the rule and the key."""


@dataclass
class Converted:
    text: str  # the new rules file
    notes: list[str] = field(default_factory=list)  # what changed meaning or was left out


def convert(text: str, origin: str = "OLD.yml") -> Converted:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConvertError(f"{origin}: not valid YAML: {exc}") from None
    old = doc.get("rules", doc.get("automations")) if isinstance(doc, dict) else doc
    if not isinstance(old, list):
        raise ConvertError(f"{origin}: expected a list of rules (or `rules:` with one)")
    out = Converted("")
    rules, seen = [], set()
    for i, rule in enumerate(old):
        where = f"{origin}: rule {i + 1}"
        if not isinstance(rule, dict):
            raise ConvertError(f"{where}: expected a mapping")
        new = _rule(rule, where, out.notes)
        if new is None:
            continue
        if new["id"] in seen:
            raise ConvertError(f"{where}: the id {new['id']!r} is used twice; rename one")
        seen.add(new["id"])
        rules.append(new)
    header = (f"# Converted from {origin} by `streamapp automations convert`; review before use.\n"
              "# Format: the header of streamapp/automations.yml.\n")
    out.text = header + yaml.safe_dump({"version": 1, "rules": rules}, sort_keys=False, allow_unicode=True, width=110)
    try:
        parse_rules(out.text, "converted")
    except ConfigError as exc:
        raise ConvertError(f"{origin}: the converted rules are refused: {exc}") from None
    return out


def _rule(rule: dict[str, Any], where: str, notes: list[str]) -> dict[str, Any] | None:
    if unknown := set(rule) - RULE_KEYS:
        raise ConvertError(f"{where}: unknown key {sorted(unknown)[0]!r} (known: {', '.join(sorted(RULE_KEYS))})")
    name = str(rule.get("name") or rule.get("id") or "")
    rule_id = _ID_CHARS.sub("-", name).strip("-.")[:64]
    if not rule_id:
        raise ConvertError(f"{where}: a `name` is needed (it becomes the rule id)")
    where = f"{where} ({name})"
    if rule.get("enabled", True) is False:
        notes.append(f"{name}: disabled in the old file, left out")
        return None
    if rule_id != name:
        notes.append(f"{name}: id {rule_id!r} (only letters, digits and _.- are kept)")
    provider = str(rule.get("provider", "")).lower()
    if provider not in PROVIDERS:
        raise ConvertError(f"{where}: provider {rule.get('provider')!r} is not one of {', '.join(PROVIDERS)}")
    params = rule.get("params") or {}
    if not isinstance(params, dict):
        raise ConvertError(f"{where}: params must be a mapping")
    kind = PROVIDERS[provider]
    action = {"awx_job_template": _awx, "terraform_run": _terraform, "servicenow_incident": _servicenow}[kind](
        params, f"{where}: params")
    new: dict[str, Any] = {"id": rule_id}
    if rule.get("description"):
        new["description"] = str(rule["description"])
    new["match"] = _match(rule.get("match", rule.get("when")) or {}, f"{where}: match")
    new["action"] = {kind: action}
    new["cooldown"] = {"duration": _duration(rule.get("cooldown", 0), name, notes),
                       "scope": str(rule.get("cooldown_scope", rule.get("scope", "rule")))}
    execute = rule.get("execute", not rule.get("dry_run", True))
    if not isinstance(execute, bool):
        raise ConvertError(f"{where}: execute/dry_run must be true or false")
    new["execute"] = execute
    return new


def _match(match: Any, where: str) -> dict[str, Any]:
    if not isinstance(match, dict):
        raise ConvertError(f"{where}: expected a mapping")
    out: dict[str, Any] = {}
    for key, value in match.items():
        if key == "is_hardware_failure":
            out.setdefault("labels", {})["hardware"] = "true" if value in (True, "true", "True") else "false"
        elif key in MATCH_KEYS:
            target = MATCH_KEYS[key]
            out[target] = {**out.get(target, {}), **value} if target == "labels" and isinstance(value, dict) else value
        else:
            raise ConvertError(f"{where}: unknown condition {key!r} (known: "
                               f"{', '.join(sorted([*MATCH_KEYS, 'is_hardware_failure']))})")
    return out


def _duration(value: Any, name: str, notes: list[str]) -> str | int | float:
    if isinstance(value, str) and value.strip().isdigit():
        notes.append(f"{name}: cooldown {value!r} is {value.strip()} s (the original read it as "
                     f"{int(value.strip()) // 10} s, a bug)")
        return f"{value.strip()}s"
    return value


def _template(value: Any, where: str) -> Any:
    """Placeholders in our syntax; non-text values as they are."""
    if not isinstance(value, str):
        return value

    def one(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        if name not in FIELD_NAMES:
            raise ConvertError(f"{where}: placeholder {m.group(0)!r} names no alert field "
                               f"(known: {', '.join(sorted(FIELD_NAMES))})")
        return "{{ " + FIELD_NAMES[name] + " }}"

    return _PLACEHOLDER.sub(one, value)


def _templates(values: Any, where: str) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise ConvertError(f"{where}: expected a mapping")
    return {str(k): _template(v, f"{where}.{k}") for k, v in values.items()}


def _only(params: dict[str, Any], known: set[str], where: str) -> None:
    if unknown := set(params) - known:
        raise ConvertError(f"{where}: unknown {sorted(unknown)[0]!r} (known: {', '.join(sorted(known))})")


def _awx(params: dict[str, Any], where: str) -> dict[str, Any]:
    _only(params, {"job_template_id", "template_id", "job_template", "id", "extra_vars", "limit"}, where)
    template = next((params[k] for k in ("job_template_id", "template_id", "job_template", "id") if k in params), None)
    try:
        out: dict[str, Any] = {"id": int(template)}  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConvertError(f"{where}: job_template_id must be the template's number (got {template!r})") from None
    if "limit" in params:
        out["limit"] = _template(params["limit"], f"{where}.limit")
    if "extra_vars" in params:
        out["extra_vars"] = _templates(params["extra_vars"], f"{where}.extra_vars")
    return out


def _terraform(params: dict[str, Any], where: str) -> dict[str, Any]:
    _only(params, {"workspace_id", "organization", "workspace", "workspace_name", "message", "auto_apply",
                   "variables"}, where)
    out: dict[str, Any] = {}
    if "workspace_id" in params:
        out["workspace_id"] = params["workspace_id"]
    else:
        out["organization"] = params.get("organization")
        out["workspace"] = params.get("workspace", params.get("workspace_name"))
    out["message"] = _template(params.get("message", "streamapp: {{ failure_type }} on {{ host }}"), f"{where}.message")
    if "auto_apply" in params:
        out["auto_apply"] = params["auto_apply"]
    if "variables" in params:
        out["variables"] = _templates(params["variables"], f"{where}.variables")
    return out


def _servicenow(params: dict[str, Any], where: str) -> dict[str, Any]:
    _only(params, set(SN_FIELDS), where)
    return {k: _template(v, f"{where}.{k}") if k in ("short_description", "description", "category", "subcategory")
            else v for k, v in params.items()}
