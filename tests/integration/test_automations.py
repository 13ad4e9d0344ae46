"""Automations against local doubles of AWX, Terraform Cloud and ServiceNow, with the real Redis
(events, toggles) and, for the restart test, real Kafka and worker processes.

In-process tests drive the agent's two stages directly (`tasks`, then `handle`) with a dict as the
cooldown table and a ManualClock; retries sleep through a recorder, so backoff tests do not wait.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr

from agents.automations import Automations, RulesWatcher
from connectors.automations import Follower, Providers
from connectors.automations.events import EventLog
from connectors.redis_streams import StreamWriter
from connectors.toggles import Toggles
from streamapp.automations.config import AutomationConfig
from streamapp.automations.records import AutomationEvent, AutomationTask
from streamapp.clock import ManualClock
from streamapp.embedding import HashedTfidfEmbedder
from streamapp.processes import free_port, start_worker
from streamapp.records import Alert
from streamapp.rules import RuleSet
from streamapp.settings import Settings
from streamapp.worker.deps import Deps
from tests.doubles.automation import AWXDouble, ServiceNowDouble, TerraformDouble
from tests.support.kafka import produce
from tests.support.streams import eventually, records

pytestmark = pytest.mark.integration

TASK_KEY = "automation-task-key-of-the-tests-0123456789"
OPENERS = ("{{", "{%", "{#", "${", "%{")
EVIL = "x; rm -rf / && $(reboot) `id` {{ lookup('pipe','id') }} {% raw %} ${jndi:ldap://x} %{if} ../../etc/passwd"

RULES = """\
version: 1
defaults:
  cooldown: {duration: 10m, scope: host}
  execute: true
rules:
  - id: restart
    match: {failure_type: app_crash, host: "web-*"}
    action:
      awx_job_template:
        id: 42
        limit: "{{ host }}"
        extra_vars: {target: "{{ host }}", why: "{{ summary }}"}
  - id: grow
    match: {failure_type: app_crash, host: "web-*"}
    action:
      terraform_run: {organization: acme, workspace: web, message: "streamapp: {{ summary }}",
                      variables: {reason: "{{ summary }}"}}
  - id: ticket
    match: {failure_type: app_crash, host: "web-*"}
    action:
      servicenow_incident:
        short_description: "{{ host }}: {{ summary }}"
        description: "{{ summary }}\\n{{ evidence }}"
        urgency: 2
        assignment_group: 287ebd7da9fe198100f92cc8d1d2154e
"""


def alert(alert_id: str, **fields: Any) -> Alert:
    base: dict[str, Any] = {
        "id": alert_id, "type": "issue", "os": "linux", "failure_type": "app_crash", "confidence": 0.9,
        "result": {"summary": "nginx crashed"}, "host": "web-01", "component": "nginx", "severity": "error",
        "summary": "nginx crashed", "issue_key": "linux|nginx|1", "created_at": 1_700_000_000.0,
    }
    base.update(fields)
    return Alert(**base)


@dataclass
class Doubles:
    awx: AWXDouble
    tfc: TerraformDouble
    sn: ServiceNowDouble
    workspace: str

    def created(self) -> tuple[int, int, int]:
        return len(self.awx.jobs), len(self.tfc.runs), len(self.sn.incidents)

    def calls(self) -> int:
        return len(self.awx.calls) + len(self.tfc.calls) + len(self.sn.calls)

    def config(self, **overrides: Any) -> AutomationConfig:
        return replace(AutomationConfig(
            enable_automations=True, automation_timeout_sec=0.5, automation_backoff_sec=0.01, awx_url=self.awx.url,
            awx_token=SecretStr(self.awx.token), tfc_url=self.tfc.url, tfc_token=SecretStr(self.tfc.token),
            servicenow_url=self.sn.url, servicenow_username=self.sn.username,
            servicenow_password=SecretStr(self.sn.password), automation_task_key=SecretStr(TASK_KEY),
        ), **overrides)


@pytest.fixture(scope="module")
def doubles() -> Iterator[Doubles]:
    with AWXDouble() as awx, TerraformDouble() as tfc, ServiceNowDouble() as sn:
        yield Doubles(awx, tfc, sn, tfc.add_workspace("acme", "web"))  # type: ignore[arg-type]


@pytest.fixture
def fresh(doubles: Doubles) -> Doubles:
    for d in (doubles.awx, doubles.tfc, doubles.sn):
        d.reset()
    doubles.awx.jobs.clear()
    doubles.tfc.runs.clear()
    doubles.sn.incidents.clear()
    doubles.sn.rate_rule = None
    return doubles


class Harness:
    """The agent's stages in-process: real providers, Redis events and toggles, a dict table."""

    def __init__(self, settings: Settings, redis: aioredis.Redis, config: AutomationConfig, rules: Path) -> None:
        self.settings, self.redis, self.clock = settings, redis, ManualClock()
        self.waits: list[float] = []
        deps = Deps(app=None, settings=settings, topics=None, rules=RuleSet.load(),  # type: ignore[arg-type]
                    embedder=HashedTfidfEmbedder(16), clock=self.clock)
        self.providers = Providers.from_config(config, sleep=self._sleep)
        self.follower = Follower(0.0, 60.0)
        self.toggles = Toggles(redis, settings.model_copy(update={"enable_automations": config.enable_automations}),
                               cache_sec=0.0, clock=self.clock)
        self.auto = Automations(
            deps, {}, config=config, rules=RulesWatcher(rules, self.clock), providers=self.providers,
            toggles=self.toggles, events=EventLog(StreamWriter(redis, settings), config.stream_automation_events),
            follower=self.follower,
        )

    async def _sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    async def feed(self, *alerts: Alert) -> None:
        for a in alerts:
            for task in self.auto.tasks(a):
                await self.auto.handle(task)

    async def events(self) -> list[AutomationEvent]:
        key = self.settings.redis_key(self.auto.config.stream_automation_events)
        return [e for _, e in await records(self.redis, key, AutomationEvent)]

    async def decisions(self, alert_id: str) -> dict[str, str]:
        """rule -> decision (other than `matched`) of one alert."""
        return {e.rule_id: e.decision for e in await self.events() if e.alert_id == alert_id and e.decision not in
                ("matched", "finished")}


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "automations.yml"
    path.write_text(RULES)
    return path


@pytest.fixture
async def harness(
    settings: Settings, redis: aioredis.Redis, fresh: Doubles, rules_file: Path
) -> AsyncIterator[Harness]:
    h = Harness(settings, redis, fresh.config(), rules_file)
    yield h
    await h.providers.on_stop()


def each(decision: str) -> dict[str, str]:
    return {"restart": decision, "grow": decision, "ticket": decision}


# --------------------------------------------------------------------------------- acting once
async def test_one_action_each_then_cooldown_then_again(harness: Harness, fresh: Doubles) -> None:
    await harness.feed(alert("a1"))
    assert await harness.decisions("a1") == each("executed")
    assert fresh.created() == (1, 1, 1)
    recorded = len(await harness.events())
    await harness.feed(alert("a1"))  # a replayed alert that already acted: no action, no event
    assert fresh.created() == (1, 1, 1) and len(await harness.events()) == recorded
    harness.clock.advance(599)
    await harness.feed(alert("a2"))
    assert await harness.decisions("a2") == each("skipped")
    assert fresh.created() == (1, 1, 1)
    harness.clock.advance(1)
    await harness.feed(alert("a3"))
    assert await harness.decisions("a3") == each("executed")
    assert fresh.created() == (2, 2, 2)

    events = {e.id: e for e in await harness.events()}
    awx = events["a1|restart|executed"]
    job = fresh.awx.jobs[awx.response["job"]]
    assert job.extra_vars == {
        "target": "web-01", "why": "nginx crashed", "streamapp_correlation_id": "streamapp:restart:a1",
    }
    assert job.limit == "web-01" and awx.correlation_id == "streamapp:restart:a1"
    run = fresh.tfc.runs[events["a1|grow|executed"].response["run"]]
    assert run.message == "streamapp: nginx crashed [streamapp:grow:a1]"
    assert run.variables == [{"key": "reason", "value": '"nginx crashed"'}]
    incident = fresh.sn.incidents[events["a1|ticket|executed"].response["sys_id"]]
    assert incident["correlation_id"] == "streamapp:ticket:a1" and incident["urgency"] == "2"
    skipped = events["a2|ticket|skipped"]
    assert "a1" in skipped.reason and skipped.cooldown_until == 1_700_000_600.0


async def test_jobs_and_runs_are_followed_to_the_end(harness: Harness, fresh: Doubles) -> None:
    fresh.tfc.workspaces[fresh.workspace]["mode"] = "manual"
    try:
        await harness.feed(alert("f1"))
        for _ in range(8):
            await harness.follower.poll_once()
    finally:
        fresh.tfc.workspaces[fresh.workspace]["mode"] = "auto"
    finished = {e.rule_id: e.response for e in await harness.events() if e.decision == "finished"}
    assert finished["restart"]["status"] == "successful" and finished["restart"]["failed"] is False
    assert finished["grow"]["status"] == "planned" and finished["grow"]["needs_confirmation"] is True
    assert "ticket" not in finished  # an incident is done once opened


# ------------------------------------------------------------------------------ tasks from Kafka
async def test_a_task_not_signed_by_the_matching_stage_is_rejected(harness: Harness, fresh: Doubles) -> None:
    """`automation_tasks` is a Kafka topic: a task written there by anyone else must not act."""
    task = harness.auto.tasks(alert("f1"))[0]
    other_alert = AutomationTask(**{**task.asdict(), "alert": {**task.alert, "host": "web-99"}})
    unsigned = AutomationTask(**{**task.asdict(), "id": "f2|restart", "signature": ""})
    for forged in (other_alert, unsigned):
        await harness.auto.handle(forged)
    assert fresh.calls() == 0, "nothing reached a provider"
    rejected = [e for e in await harness.events() if e.decision == "rejected"]
    assert len(rejected) == 2 and all("signature" in e.reason for e in rejected)


async def test_a_task_is_matched_again_against_the_rules_in_force(
    harness: Harness, fresh: Doubles, rules_file: Path
) -> None:
    tasks = harness.auto.tasks(alert("m1"))
    rules_file.write_text(RULES.replace('host: "web-*"', 'host: "db-*"'))  # narrowed while the tasks were queued
    assert harness.auto.rules.check()
    for task in tasks:
        await harness.auto.handle(task)
    assert fresh.calls() == 0 and await harness.decisions("m1") == each("rejected")


async def test_an_awx_limit_is_one_host_of_the_inventory_never_a_group(
    settings: Settings, redis: aioredis.Redis, fresh: Doubles, rules_file: Path
) -> None:
    """A host name from an alert that is a group's name would run the playbook on the whole group."""
    rules_file.write_text(RULES.replace('host: "web-*"', 'host: "web*"'))
    h = Harness(settings, redis, fresh.config(), rules_file)
    try:
        await h.feed(alert("g1", host="webservers"), alert("g2", host="web-77"))
    finally:
        await h.providers.on_stop()
    failed = {(e.alert_id, e.rule_id): e.error for e in await h.events() if e.decision == "failed"}
    assert "groups of that name" in failed[("g1", "restart")] and "0 hosts" in failed[("g2", "restart")]
    assert not fresh.awx.calls_to("POST", "/launch/"), "nothing launched"


# ------------------------------------------------------------------------------------- dry runs
@pytest.mark.parametrize("off", ["flag", "rule", "toggle"])
async def test_dry_run_reaches_no_double(
    settings: Settings, redis: aioredis.Redis, fresh: Doubles, rules_file: Path, off: str
) -> None:
    if off == "rule":
        rules_file.write_text(RULES.replace("execute: true", "execute: false"))
    h = Harness(settings, redis, fresh.config(enable_automations=off != "flag"), rules_file)
    if off == "toggle":
        await h.toggles.update({"automations": False})
    await h.feed(alert("d1"), alert("d2"))
    await h.providers.on_stop()
    assert fresh.calls() == 0, "no request reached the doubles"
    assert await h.decisions("d1") == each("dry_run") and await h.decisions("d2") == each("skipped")
    dry = {e.rule_id: e for e in await h.events() if e.decision == "dry_run"}
    assert dry["restart"].action == {"template_id": 42, "limit": "web-01",
                                     "extra_vars": {"target": "web-01", "why": "nginx crashed"}}
    assert dry["ticket"].action["fields"]["short_description"] == "web-01: nginx crashed"
    assert {"flag": "ENABLE_AUTOMATIONS", "rule": "execute: false", "toggle": "toggle"}[off] in dry["grow"].reason


async def test_default_settings_are_dry_run(settings: Settings, redis: aioredis.Redis, fresh: Doubles,
                                            rules_file: Path) -> None:
    config = replace(fresh.config(), enable_automations=AutomationConfig.from_settings(settings).enable_automations)
    h = Harness(settings, redis, config, rules_file)
    await h.feed(alert("d1"))
    await h.providers.on_stop()
    assert await h.decisions("d1") == each("dry_run") and fresh.calls() == 0


# --------------------------------------------------------------------------------- idempotence
@pytest.mark.parametrize("system", ["sn", "awx", "tfc"])
async def test_timed_out_create_is_found_not_repeated(harness: Harness, fresh: Doubles, system: str) -> None:
    double = getattr(fresh, system)
    # The create answers 1.5 s late (the object exists by then); the client gives up after 0.5 s.
    # AWX first reads the template's prompts and inventory and looks the limit up (4 GETs);
    # Terraform the workspace id.
    double.enqueue(*{"sn": ["slow"], "awx": ["ok"] * 4 + ["slow"], "tfc": ["ok", "slow"]}[system])
    await harness.feed(alert("t1"))
    assert fresh.created() == (1, 1, 1), "exactly one object each"
    rule, create = {
        "sn": ("ticket", "/table/incident"), "awx": ("restart", "/launch/"), "tfc": ("grow", "/runs"),
    }[system]
    executed = {e.rule_id: e for e in await harness.events() if e.decision == "executed"}[rule]
    assert executed.response["recovered"] is True
    assert len(double.calls_to("POST", create)) == 1, "the POST was not sent again"
    assert double.calls[-1].method == "GET", "the retry looked the object up instead"


# ------------------------------------------------------------------------------ throttling and errors
async def test_throttling_waits_as_each_system_asks(harness: Harness, fresh: Doubles) -> None:
    fresh.tfc.enqueue("ok", "throttle")  # workspace lookup, then a 429 on the create
    fresh.awx.enqueue("ok", "unavailable")  # a 503 on the launch: outcome unknown, looked up first
    fresh.sn.enqueue("throttle")
    await harness.feed(alert("r1"))
    assert await harness.decisions("r1") == each("executed")
    assert fresh.created() == (1, 1, 1)
    assert 0.05 in harness.waits, "Terraform: X-RateLimit-Reset"
    assert 1.0 in harness.waits, "ServiceNow and the AWX proxy: Retry-After"
    assert len(fresh.sn.calls_to("POST", "/table/incident")) == 2


async def test_servicenow_rate_limit_rule(harness: Harness, fresh: Doubles) -> None:
    from tests.doubles.automation import RateRule

    fresh.sn.rate_rule = RateRule(limit=1, window_sec=3600)
    await harness.feed(alert("q1", host="web-01"))
    await harness.feed(alert("q2", host="web-02"))
    events = {e.id: e for e in await harness.events()}
    assert events["q1|ticket|executed"].response["number"].startswith("INC")
    failed = events["q2|ticket|failed"]
    assert "RateLimited" in failed.error and "Rate limit of 1 requests per hour" in failed.error
    assert len(fresh.sn.incidents) == 1 and 1.0 in harness.waits


async def test_client_errors_fail_the_action_with_the_reason(
    settings: Settings, redis: aioredis.Redis, fresh: Doubles, rules_file: Path
) -> None:
    fresh.awx.add_template(43, ask_limit_on_launch=False)
    rules_file.write_text(RULES.replace("id: 42", "id: 43").replace("workspace: web", "workspace: nope"))
    h = Harness(settings, redis, fresh.config(), rules_file)
    fresh.sn.scenario = "forbidden"
    await h.feed(alert("e1"))
    failed = {e.rule_id: e.error for e in await h.events() if e.decision == "failed"}
    assert "would ignore limit" in failed["restart"] and not fresh.awx.calls_to("POST", "/launch/")
    assert "HTTP 404" in failed["grow"] and "HTTP 403" in failed["ticket"] and "ACL Exception" in failed["ticket"]
    assert fresh.created() == (0, 0, 0)
    fresh.sn.scenario = "ok"
    await h.feed(alert("e2"))  # a failure held no cooldown
    await h.providers.on_stop()
    assert len(fresh.sn.incidents) == 1


@pytest.mark.parametrize(("change", "rule", "reason"), [
    ({"awx_token": SecretStr("stale")}, "restart", "awx: HTTP 401: Authentication credentials were not provided"),
    ({"tfc_token": SecretStr("stale")}, "grow", "terraform: HTTP 401"),
    ({"servicenow_password": SecretStr("stale")}, "ticket", "servicenow: HTTP 401: User Not Authenticated"),
])
async def test_wrong_credentials_fail_with_the_systems_reason(
    settings: Settings, redis: aioredis.Redis, fresh: Doubles, rules_file: Path, change: dict, rule: str, reason: str
) -> None:
    h = Harness(settings, redis, fresh.config(**change), rules_file)
    await h.feed(alert("c1"))
    await h.providers.on_stop()
    events = {e.rule_id: e for e in await h.events() if e.decision in ("failed", "executed")}
    assert events[rule].decision == "failed" and reason in events[rule].error
    assert "stale" not in events[rule].error
    assert sum(1 for e in events.values() if e.decision == "executed") == 2


async def test_awx_variables_needed_and_the_doubles_other_routes(harness: Harness, fresh: Doubles) -> None:
    fresh.awx.templates[42].variables_needed = ("ticket_id",)
    fresh.tfc.workspaces[fresh.workspace]["mode"] = "manual"
    try:
        await harness.feed(alert("n1"))
    finally:
        fresh.awx.templates[42].variables_needed = ()
        fresh.tfc.workspaces[fresh.workspace]["mode"] = "auto"
    failed = {e.rule_id: e.error for e in await harness.events() if e.decision == "failed"}
    assert "variables_needed_to_start: 'ticket_id' value missing" in failed["restart"]
    run = next(iter(fresh.tfc.runs))
    async with httpx.AsyncClient(base_url=fresh.tfc.url + "/", headers={"Authorization": f"Bearer {fresh.tfc.token}"},
                                 timeout=5) as tfc:
        assert (await tfc.post(f"runs/{run}/actions/apply")).status_code == 409  # still pending
        for _ in range(2):
            await tfc.get(f"runs/{run}")
        parked = (await tfc.get(f"runs/{run}")).json()["data"]["attributes"]
        assert parked["status"] == "planned" and parked["actions"]["is-confirmable"] is True
        assert (await tfc.post(f"runs/{run}/actions/apply")).status_code == 202
    await harness.feed(alert("n2", host="web-02"))
    job = max(fresh.awx.jobs)
    async with httpx.AsyncClient(base_url=fresh.awx.url, headers={"Authorization": f"Bearer {fresh.awx.token}"},
                                 timeout=5) as awx:
        assert "PLAY [all]" in (await awx.get(f"jobs/{job}/stdout/", params={"format": "txt"})).text
        assert (await awx.post(f"jobs/{job}/cancel/")).status_code == 202
        assert (await awx.get(f"jobs/{job}/")).json()["status"] == "canceled"
        assert (await awx.post(f"jobs/{job}/cancel/")).status_code == 405


async def test_servicenow_oauth_token_renewed_on_401(
    settings: Settings, redis: aioredis.Redis, fresh: Doubles, rules_file: Path
) -> None:
    rules_file.write_text(RULES[: RULES.index("  - id: restart")] + RULES[RULES.index("  - id: ticket"):])
    config = fresh.config(servicenow_client_id=fresh.sn.client_id,
                          servicenow_client_secret=SecretStr(fresh.sn.client_secret))
    h = Harness(settings, redis, config, rules_file)
    await h.feed(alert("o1", host="web-01"))
    fresh.sn.expire_tokens()
    await h.feed(alert("o2", host="web-02"))
    await h.providers.on_stop()
    assert len(fresh.sn.incidents) == 2
    grants = [c.body["grant_type"] for c in fresh.sn.calls if c.path == "/oauth_token.do"]
    assert grants == ["password", "refresh_token"]
    assert all(fresh.sn.client_secret not in json.dumps(e.asdict()) for e in await h.events())


async def test_aap25_prefix(settings: Settings, redis: aioredis.Redis, fresh: Doubles, rules_file: Path) -> None:
    h = Harness(settings, redis, fresh.config(awx_url=fresh.awx.url_aap25), rules_file)
    await h.feed(alert("p1"))
    await h.providers.on_stop()
    assert fresh.awx.calls_to("POST", "/api/controller/v2/job_templates/42/launch/")
    assert len(fresh.awx.jobs) == 1


# ------------------------------------------------------------------------------------- injection
async def test_injection_payloads_are_inert(harness: Harness, fresh: Doubles) -> None:
    evidence = [{"id": "1-0", "raw": EVIL, "templated": "", "source": "s", "os": "linux", "env_id": "1-0"}]
    await harness.feed(alert("i1", summary=EVIL, component=EVIL, evidence_logs=evidence))
    assert await harness.decisions("i1") == each("executed")
    job = next(iter(fresh.awx.jobs.values()))
    run = next(iter(fresh.tfc.runs.values()))
    incident = next(iter(fresh.sn.incidents.values()))
    texts = [job.extra_vars["why"], run.message, run.variables[0]["value"], incident["short_description"],
             incident["description"]]
    for text in texts:
        assert not any(o in text for o in OPENERS), text
        assert "rm -rf /" in text or len(text) <= 160  # plain data, not removed
    assert incident["description"].count("\n") == 1
    paths = {c.path for d in (fresh.awx, fresh.tfc, fresh.sn) for c in d.calls}
    assert not any(".." in p or "etc" in p or ";" in p for p in paths), paths

    await harness.feed(alert("i2", host="web-9; reboot"))  # host only reaches the AWX limit
    events = {e.id: e for e in await harness.events()}
    assert "not a single host name" in events["i2|restart|failed"].error
    assert len(fresh.awx.jobs) == 1, "nothing launched for it"


# -------------------------------------------------------------------------------------- reloads
async def test_rules_reload_rejects_invalid_edits_and_keeps_the_last_good_set(
    harness: Harness, fresh: Doubles, rules_file: Path
) -> None:
    watcher = harness.auto.rules
    version = watcher.book.version
    rules_file.write_text(RULES.replace("duration: 10m", "duration: 10 minutes"))
    assert watcher.check() is False
    assert watcher.last_error is not None and watcher.last_error["line"] == 3
    assert "not a duration" in watcher.last_error["reason"] and watcher.book.version == version
    assert watcher.check() is False  # the same rejected text is not re-parsed
    await harness.feed(alert("v1"))
    assert await harness.decisions("v1") == each("executed"), "the previous rules keep working"

    rules_file.write_text(RULES.replace('host: "web-*"}', 'host: "db-*"}', 1))
    assert watcher.check() is True and watcher.last_error is None and watcher.book.version != version
    await harness.feed(alert("v2", host="db-01"))
    assert await harness.decisions("v2") == {"restart": "executed"}, "a valid edit applies without restart"

    rules_file.unlink()
    assert watcher.check() is False and "cannot be read" in watcher.last_error["reason"]
    assert watcher.check() is False and watcher.book.rules, "still the last good rules"


# -------------------------------------------------------------------------- worker restart (Kafka)
async def test_cooldown_survives_sigkill(
    settings: Settings, env: dict[str, str], redis: aioredis.Redis, fresh: Doubles, tmp_path: Path
) -> None:
    rules = tmp_path / "worker.yml"
    rules.write_text(RULES[: RULES.index("  - id: grow")].replace("10m", "1h"))
    token = "automation-admin-of-the-tests-0123456789"
    env = {
        **env, "ADMIN_TOKEN": token, "ENABLE_AUTOMATIONS": "true", "AUTOMATIONS_PATH": str(rules),
        "AWX_URL": fresh.awx.url, "AWX_TOKEN": fresh.awx.token, "AUTOMATION_FOLLOW_INTERVAL_SEC": "0.5",
        "AUTOMATION_TASK_KEY": TASK_KEY,
        **{f"ENABLE_{s}": "false" for s in ("BRIDGE", "CONSUMER", "ISSUES_AGGREGATOR", "CLUSTERING", "ENRICHER",
                                              "CLUSTER_ENRICHER", "PROTOTYPE_IMPROVER")},
    }
    topic = settings.topic_name("alerts")
    stream = settings.redis_key("automation_events")

    async def send(a: Alert) -> None:
        await produce(settings, topic, [(a.id.encode(), a.dumps())])

    async def decided(alert_id: str) -> str | None:
        for _, e in await records(redis, stream, AutomationEvent):
            if e.alert_id == alert_id and e.decision not in ("matched", "finished"):
                return e.decision
        return None

    first = start_worker(env, tmp_path / "first.log", app="streamapp")
    try:
        await send(alert("k1"))
        assert await eventually(lambda: decided("k1"), timeout=90, interval=0.2) == "executed"
        await asyncio.sleep(2)
    finally:
        first.kill()
    assert len(fresh.awx.jobs) == 1

    second_env = {**env, "DATA_DIR": str(tmp_path / "second"), "WEB_PORT": str(free_port())}
    second = start_worker(second_env, tmp_path / "second.log", app="streamapp")
    try:
        await send(alert("k2"))  # same host, inside the hour
        await send(alert("k3", host="web-02"))  # another host: acts
        assert await eventually(lambda: decided("k2"), timeout=90, interval=0.2) == "skipped"
        assert await eventually(lambda: decided("k3"), timeout=60, interval=0.2) == "executed"
        assert len(fresh.awx.jobs) == 2, second.output()[-3000:]

        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{second_env['WEB_PORT']}", timeout=10) as web:
            listed = (await web.get("/automations/cooldowns/", headers=auth)).json()["items"]
            one = await web.get("/automations/cooldowns/restart%7Chost%3Dweb-01/", headers=auth)
            rules_view = (await web.get("/automations/rules/", headers=auth)).json()
            assert (await web.get("/automations/cooldowns/")).status_code == 401
        assert {i["key"] for i in listed} == {"restart|host=web-01", "restart|host=web-02"}
        assert one.status_code == 200 and one.json()["alert_id"] == "k1" and one.json()["remaining_sec"] > 3000
        assert [r["id"] for r in rules_view["rules"]] == ["restart"] and rules_view["last_error"] is None
    finally:
        assert second.terminate() == 0, second.output()[-3000:]
