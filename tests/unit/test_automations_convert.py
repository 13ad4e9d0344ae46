"""`streamapp automations convert`: the original's provider/params rules as our rules file, which
the worker's own parser accepts; meaning kept (cooldowns in seconds, dry runs), anything unknown
refused with the rule and key named."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from streamapp.automations.convert import ConvertError, convert
from streamapp.automations.parse import parse_rules
from streamapp.automations.rules import AwxJob, ServiceNowIncident, TerraformRun
from streamapp.cli import main
from tests.conftest import REPO

OLD = REPO / "tests" / "data" / "original_automations.yml"


def test_the_original_rules_become_rules_the_worker_loads() -> None:
    converted = convert(OLD.read_text(), OLD.name)
    book = parse_rules(converted.text)
    assert [r.id for r in book.rules] == ["restart-web-service", "grow-volumes", "ticket-hardware"]
    web, grow, ticket = book.rules
    assert isinstance(web.action, AwxJob) and web.action.template_id == 42
    assert (web.cooldown_sec, web.scope, web.execute) == (900.0, "host", True)
    assert web.match.hosts == ("web-*",) and web.match.alert_types == frozenset({"issue"})
    assert web.match.min_confidence == 0.7 and str(web.match.min_severity) == "error"
    new = yaml.safe_load(converted.text)["rules"]
    assert new[0]["action"]["awx_job_template"] == {
        "id": 42, "limit": "{{ host }}",
        "extra_vars": {"target_host": "{{ host }}", "reason": "{{ failure_type }}: {{ summary }}"}}
    assert isinstance(grow.action, TerraformRun) and grow.action.workspace == "data-volumes"
    assert (grow.cooldown_sec, grow.execute) == (3600.0, False), "no dry_run said: a dry run"
    assert new[1]["action"]["terraform_run"]["message"] == "grow volumes for {{ host }}"
    assert isinstance(ticket.action, ServiceNowIncident) and ticket.scope == "issue_key"
    assert dict(ticket.match.labels) == {"hardware": ("true",)}
    assert new[2]["action"]["servicenow_incident"]["description"] == \
        "Cause: {{ root_cause }}. Do: {{ recommended_action }}"
    assert converted.notes == [
        "restart web service: id 'restart-web-service' (only letters, digits and _.- are kept)",
        "restart web service: cooldown '900' is 900 s (the original read it as 90 s, a bug)",
        "old-experiment: disabled in the old file, left out",
    ]


@pytest.mark.parametrize(("rule", "error"), [
    ({"name": "x", "provider": "pagerduty"}, r"rule 1 \(x\): provider 'pagerduty'"),
    ({"name": "x", "provider": "awx", "params": {"job_template_id": "abc"}}, "job_template_id must be"),
    ({"name": "x", "provider": "awx", "params": {"job_template_id": 1, "inventory": 3}}, "params: unknown 'inventory'"),
    ({"name": "x", "provider": "awx", "params": {"job_template_id": 1, "limit": "{hostname}"}},
     r"params.limit: placeholder '\{hostname\}' names no alert field"),
    ({"name": "x", "provider": "awx", "params": {"id": 1}, "match": {"colour": "red"}}, "unknown condition 'colour'"),
    ({"name": "x", "provider": "awx", "params": {"id": 1}, "retries": 3}, "unknown key 'retries'"),
    ({"provider": "awx", "params": {"id": 1}}, "a `name` is needed"),
    ({"name": "x", "provider": "awx", "params": {"id": 1}, "match": {"failure_type": "disk"}},
     "the converted rules are refused: .*unknown 'disk'"),
])
def test_what_cannot_be_converted_is_named(rule: dict, error: str) -> None:
    with pytest.raises(ConvertError, match=error):
        convert(yaml.safe_dump({"rules": [rule]}), "OLD.yml")


def test_duplicate_ids_and_non_lists_are_refused() -> None:
    twice = [{"name": "a b", "provider": "awx", "params": {"id": 1}}, {"name": "a-b", "provider": "awx",
                                                                       "params": {"id": 2}}]
    with pytest.raises(ConvertError, match="used twice"):
        convert(yaml.safe_dump(twice))
    with pytest.raises(ConvertError, match="expected a list of rules"):
        convert("rules: 3")
    with pytest.raises(ConvertError, match="not valid YAML"):
        convert("rules: [")


def test_the_command_writes_the_rules_and_notes_or_one_line_on_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "automations.yml"
    assert main(["automations", "convert", str(OLD), "-o", str(out)]) == 0
    assert len(parse_rules(out.read_text()).rules) == 3
    printed = capsys.readouterr()
    assert printed.err.count("note: ") == 3 and f"wrote {out}" in printed.err and printed.out == ""
    bad = tmp_path / "bad.yml"
    bad.write_text("rules:\n  - name: x\n    provider: nagios\n")
    assert main(["automations", "convert", str(bad)]) == 2
    printed = capsys.readouterr()
    (line,) = printed.err.strip().splitlines()
    assert line.startswith("streamapp automations convert: bad.yml: rule 1 (x): provider 'nagios'")
    assert printed.out == ""
    assert main(["automations", "convert", str(OLD)]) == 0
    assert parse_rules(capsys.readouterr().out).rules[0].id == "restart-web-service"
