"""`automations.yml` -> RuleBook, or RulesError naming the line and the reason.

The format is documented in the shipped `streamapp/automations.yml`. Validation is strict: unknown
keys, duplicate keys or ids, unknown failure types or fields, bad durations and template syntax
are all refused, so a typo never silently widens or disables a rule.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, cast

import yaml

from streamapp.automations.durations import parse_duration
from streamapp.automations.render import Template, TemplateError
from streamapp.automations.rules import (
    ACTION_KINDS,
    SCOPES,
    Action,
    AutomationRule,
    AwxJob,
    Match,
    RuleBook,
    Scope,
    ServiceNowIncident,
    TerraformRun,
)
from streamapp.errors import ConfigError
from streamapp.taxonomy import FailureType, Severity

MAX_FILE_BYTES = 1024 * 1024
_RULE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_WORKSPACE_ID = re.compile(r"ws-[A-Za-z0-9]{1,64}")
_TFC_NAME = re.compile(r"[A-Za-z0-9_.-]{1,90}")
# ServiceNow incident fields a rule may set. Text fields are templates; reference fields (who is
# assigned, which CI) are literal sys_ids or names: log text never chooses them.
SN_TEXT_FIELDS = frozenset({"short_description", "description", "category", "subcategory"})
SN_LITERAL_FIELDS = frozenset({
    "urgency", "impact", "assignment_group", "caller_id", "cmdb_ci", "business_service", "contact_type",
})
SN_LEVELS = frozenset({"1", "2", "3"})
T = TypeVar("T")


class RulesError(ConfigError):
    """An invalid rules file: `line` (1-based, 0 if unknown) and `reason`."""

    def __init__(self, origin: str, line: int, reason: str) -> None:
        super().__init__(f"{origin}:{line}: {reason}" if line else f"{origin}: {reason}")
        self.origin, self.line, self.reason = origin, line, reason


class _Map(dict):
    """A YAML mapping that remembers its line and each key's line."""

    line: int
    key_lines: dict[str, int]


class _Seq(list):
    line: int


class _Loader(yaml.SafeLoader):
    pass


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    out = _Map()
    out.line, out.key_lines = node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            raise _Invalid(line, f"keys must be text, got {key!r}")
        if key in out:
            raise _Invalid(line, f"duplicate key {key!r}")
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = line
    return out


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> _Seq:
    out = _Seq(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    return out


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


class _Invalid(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line, self.reason = line, reason


def load_rules(path: Path | None = None) -> RuleBook:
    """The rules file at `path`, or the shipped example `streamapp/automations.yml`."""
    if path is None:
        return parse_rules(resources.files("streamapp").joinpath("automations.yml").read_text(), "automations.yml")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(str(path), 0, f"cannot be read: {exc}") from None
    return parse_rules(text, str(path))


def parse_rules(text: str, origin: str = "automations.yml") -> RuleBook:
    if len(text.encode()) > MAX_FILE_BYTES:
        raise RulesError(origin, 0, f"larger than {MAX_FILE_BYTES} bytes")
    try:
        doc = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass that only records lines
        return _book(doc, text)
    except _Invalid as exc:
        raise RulesError(origin, exc.line, exc.reason) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise RulesError(origin, mark.line + 1 if mark else 0, f"not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise RulesError(origin, 0, f"not valid YAML: {exc}") from None


def _book(doc: Any, text: str) -> RuleBook:
    if not isinstance(doc, _Map):
        raise _Invalid(1, "expected a mapping with `version: 1` and `rules:`")
    _keys(doc, {"version", "defaults", "rules"}, "top level")
    if doc.get("version", 1) != 1:
        raise _Invalid(doc.key_lines["version"], "version: only 1 is known")
    defaults = doc.get("defaults") or _Map()
    if not isinstance(defaults, _Map):
        raise _Invalid(doc.key_lines["defaults"], "defaults: expected a mapping")
    _keys(defaults, {"cooldown", "execute", "llm_only"}, "defaults")
    rules = doc.get("rules")
    if not isinstance(rules, _Seq):
        raise _Invalid(doc.key_lines.get("rules", doc.line), "expected a `rules:` list")
    seen: dict[str, int] = {}
    parsed = []
    for i, entry in enumerate(rules):
        if not isinstance(entry, _Map):
            raise _Invalid(rules.line, f"rules[{i}]: expected a mapping")
        rule = _rule(entry, defaults, f"rules[{i}]")
        if rule.id in seen:
            raise _Invalid(entry.line, f"duplicate rule id {rule.id!r} (first on line {seen[rule.id]})")
        seen[rule.id] = entry.line
        parsed.append(rule)
    return RuleBook(tuple(parsed), hashlib.blake2b(text.encode(), digest_size=6).hexdigest())


def _keys(m: _Map, allowed: set[str], where: str, required: tuple[str, ...] = ()) -> None:
    for key in m:
        if key not in allowed:
            raise _Invalid(m.key_lines[key], f"{where}: unknown key {key!r} (known: {', '.join(sorted(allowed))})")
    for key in required:
        if key not in m:
            raise _Invalid(m.line, f"{where}: missing {key!r}")


def _get(m: _Map, key: str, where: str, check: Callable[[Any], T]) -> T:
    """`check(m[key])`, a ValueError/TypeError from it reported on the key's line."""
    try:
        return check(m[key])
    except (ValueError, TypeError) as exc:
        raise _Invalid(m.key_lines[key], f"{where}.{key}: {exc}") from None


def _rule(m: _Map, defaults: _Map, where: str) -> AutomationRule:
    _keys(m, {"id", "description", "match", "action", "cooldown", "execute", "llm_only"}, where,
          ("id", "match", "action"))
    rule_id = _get(m, "id", where, _rule_id)
    where = f"rule {rule_id!r}"
    cooldown = m.get("cooldown", defaults.get("cooldown"))
    if cooldown is None:
        raise _Invalid(m.line, f"{where}: missing 'cooldown' (and no defaults.cooldown)")
    holder = m if "cooldown" in m else defaults
    seconds, scope = _get(holder, "cooldown", where, _cooldown)
    execute, llm_only = (_flag(m, defaults, key, where) for key in ("execute", "llm_only"))
    return AutomationRule(
        id=rule_id, match=_match(_mapping(m, "match", where), f"{where}.match"),
        action=_action(_mapping(m, "action", where), f"{where}.action"), cooldown_sec=seconds, scope=scope,
        execute=execute, llm_only=llm_only, description=str(m.get("description", "")), line=m.line,
    )


def _flag(m: _Map, defaults: _Map, key: str, where: str) -> bool:
    """A true/false key of the rule, else of the defaults, else false."""
    value = m.get(key, defaults.get(key, False))
    if not isinstance(value, bool):
        raise _Invalid(m.key_lines.get(key, defaults.key_lines.get(key, m.line)), f"{where}.{key}: true or false")
    return value


def _rule_id(value: Any) -> str:
    if not isinstance(value, str) or not _RULE_ID.fullmatch(value):
        raise ValueError("letters, digits, `_.-`, at most 64, starting with a letter or digit")
    return value


def _mapping(m: _Map, key: str, where: str) -> _Map:
    value = m[key]
    if not isinstance(value, _Map):
        raise _Invalid(m.key_lines[key], f"{where}.{key}: expected a mapping")
    return value


def _cooldown(value: Any) -> tuple[float, Scope]:
    if not isinstance(value, dict):
        raise ValueError("expected {duration: 15m, scope: rule|host|issue_key}")
    unknown = set(value) - {"duration", "scope"}
    if unknown or "duration" not in value:
        raise ValueError(f"expected keys duration and scope, got {sorted(value)}")
    scope = value.get("scope", "rule")
    if scope not in SCOPES:
        raise ValueError(f"scope {scope!r} is not one of {', '.join(SCOPES)}")
    return parse_duration(value["duration"]), cast(Scope, scope)


def _texts(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(x, str) and x for x in items):
        raise ValueError("expected text or a list of texts")
    return tuple(items)


def _one_of(allowed: set[str] | frozenset[str]) -> Callable[[Any], frozenset[str]]:
    def check(value: Any) -> frozenset[str]:
        items = frozenset(x.lower() for x in _texts(value))
        bad = sorted(items - allowed)
        if bad:
            raise ValueError(f"unknown {', '.join(map(repr, bad))} (known: {', '.join(sorted(allowed))})")
        return items

    return check


def _confidence(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError("a number from 0 to 1")
    return float(value)


def _severity(value: Any) -> Severity:
    if value not in set(Severity):
        raise ValueError(f"one of {', '.join(Severity)}")
    return Severity(value)


def _labels(value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise ValueError("expected a mapping of label -> glob or list of globs")
    return tuple((str(k), _texts(v)) for k, v in value.items())


def _match(m: _Map, where: str) -> Match:
    _keys(m, {"failure_type", "min_severity", "min_confidence", "os", "host", "component", "alert_type", "labels"},
          where)
    kw: dict[str, Any] = {}
    checks: dict[str, tuple[str, Callable[[Any], Any]]] = {
        "failure_type": ("failure_types", _one_of(frozenset(FailureType))),
        "min_severity": ("min_severity", _severity),
        "min_confidence": ("min_confidence", _confidence),
        "os": ("os", lambda v: frozenset(x.lower() for x in _texts(v))),
        "host": ("hosts", _texts),
        "component": ("components", _texts),
        "alert_type": ("alert_types", _one_of({"issue", "cluster"})),
        "labels": ("labels", _labels),
    }
    for key, (name, check) in checks.items():
        if key in m:
            kw[name] = _get(m, key, where, check)
    return Match(**kw)


def _template(value: Any) -> Template:
    if not isinstance(value, str):
        raise ValueError("expected text")
    try:
        return Template.parse(value)
    except TemplateError as exc:
        raise ValueError(str(exc)) from None


def _templates(m: _Map, where: str, literal_ok: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in m.items():
        if not _VAR_NAME.fullmatch(key):
            raise _Invalid(m.key_lines[key], f"{where}: {key!r} is not a variable name")
        if literal_ok and isinstance(value, bool | int | float):
            out[key] = value
        else:
            out[key] = _get(m, key, where, _template)
    return out


def _action(m: _Map, where: str) -> Action:
    if len(m) != 1 or next(iter(m)) not in ACTION_KINDS:
        raise _Invalid(m.line, f"{where}: exactly one of {', '.join(ACTION_KINDS)}")
    kind = next(iter(m))
    body = _mapping(m, kind, where)
    where = f"{where}.{kind}"
    if kind == "awx_job_template":
        return _awx(body, where)
    if kind == "terraform_run":
        return _terraform(body, where)
    return _servicenow(body, where)


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("a positive integer (the job template's id)")
    return value


def _awx(m: _Map, where: str) -> AwxJob:
    _keys(m, {"id", "extra_vars", "limit"}, where, ("id",))
    extra = _templates(_mapping(m, "extra_vars", where), f"{where}.extra_vars", literal_ok=True) if "extra_vars" in m \
        else {}
    limit = _get(m, "limit", where, _template) if "limit" in m else None
    return AwxJob(template_id=_get(m, "id", where, _positive_int), extra_vars=extra, limit=limit)


def _pattern(regex: re.Pattern[str], what: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not regex.fullmatch(value):
            raise ValueError(f"not a valid {what}")
        return value

    return check


def _terraform(m: _Map, where: str) -> TerraformRun:
    _keys(m, {"workspace_id", "organization", "workspace", "message", "auto_apply", "variables"}, where,
          ("message",))
    by_id, by_name = "workspace_id" in m, "organization" in m or "workspace" in m
    if by_id == by_name or (by_name and not ("organization" in m and "workspace" in m)):
        raise _Invalid(m.line, f"{where}: either workspace_id, or organization and workspace")
    auto_apply = m.get("auto_apply")
    if auto_apply is not None and not isinstance(auto_apply, bool):
        raise _Invalid(m.key_lines["auto_apply"], f"{where}.auto_apply: true or false")
    return TerraformRun(
        message=_get(m, "message", where, _template),
        workspace_id=_get(m, "workspace_id", where, _pattern(_WORKSPACE_ID, "workspace id (ws-...)")) if by_id else "",
        organization=_get(m, "organization", where, _pattern(_TFC_NAME, "organization name")) if by_name else "",
        workspace=_get(m, "workspace", where, _pattern(_TFC_NAME, "workspace name")) if by_name else "",
        auto_apply=auto_apply,
        variables=_templates(_mapping(m, "variables", where), f"{where}.variables") if "variables" in m else {},
    )


def _servicenow(m: _Map, where: str) -> ServiceNowIncident:
    _keys(m, set(SN_TEXT_FIELDS | SN_LITERAL_FIELDS), where, ("short_description",))
    fields: dict[str, Any] = {}
    for key, value in m.items():
        if key in SN_TEXT_FIELDS:
            fields[key] = _get(m, key, where, _template)
            continue
        if not isinstance(value, str | int) or isinstance(value, bool) or "{" in str(value):
            raise _Invalid(m.key_lines[key], f"{where}.{key}: a literal value (no placeholders)")
        if key in ("urgency", "impact") and str(value) not in SN_LEVELS:
            raise _Invalid(m.key_lines[key], f"{where}.{key}: 1 (high), 2 (medium) or 3 (low)")
        fields[key] = str(value)
    return ServiceNowIncident(fields=fields)
