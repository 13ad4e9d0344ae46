"""Automations agent: `alerts` -> matching rules -> cooldown -> execute or dry run -> `automation_events`.

Stage one matches each alert against the rules in force and sends one task per matching rule to
the internal topic `automation_tasks`, keyed by the rule's cooldown scope: every decision on a
scope is then taken in the one partition holding that scope's cooldown entry, in order.

Stage two, per task: dry run unless ENABLE_AUTOMATIONS, the rule's `execute` and the runtime
toggle all allow execution; ask the cooldown table (skip, act, or a replay of this very alert);
write the claim and flush it to the changelog *before* calling the provider, so a worker killed
mid-call comes back, finds its own claim and looks the object up by correlation id instead of
creating a second one; record every decision on the Redis stream `automation_events` with a
stable id (a replay adds nothing). Launched jobs and runs are followed until they finish.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from agents.guard import guarded_agent, guarded_timer
from connectors.automations import Follower, Providers
from connectors.automations.events import EventLog
from connectors.toggles import Toggles
from streamapp.automations.config import AutomationConfig
from streamapp.automations.decide import Claim, check, mode_for
from streamapp.automations.parse import load_rules
from streamapp.automations.records import AutomationEvent, AutomationTask
from streamapp.automations.rules import AutomationRule, RuleBook, UnsafeValue, correlation_id
from streamapp.automations.signing import sign, signed
from streamapp.clock import Clock
from streamapp.errors import ConfigError, StreamAppError
from streamapp.records import Alert
from streamapp.worker.deps import Deps
from tables.cooldowns import cooldowns

log = logging.getLogger(__name__)


class RulesWatcher:
    """The rules in force. `check()` reloads the file when its content changed; an invalid edit is
    logged with its line and reason, kept in `last_error`, and the last good rules stay."""

    def __init__(self, path: Path | None, clock: Clock) -> None:
        self.path, self.clock = path, clock
        self.book: RuleBook = load_rules(path)  # invalid at start: fail fast (ConfigError)
        self.loaded_at = clock.now()
        self.last_error: dict[str, Any] | None = None
        self._seen = self._digest()

    def _digest(self) -> str:
        if self.path is None:
            return ""
        try:
            return hashlib.blake2b(self.path.read_bytes(), digest_size=16).hexdigest()
        except OSError as exc:  # reported once by the load that follows, not at every check
            return f"unreadable: {exc}"

    def check(self) -> bool:
        """True when a changed, valid file replaced the rules."""
        digest = self._digest()
        if self.path is None or digest == self._seen:
            return False
        self._seen = digest
        try:
            book = load_rules(self.path)
        except ConfigError as exc:
            self.last_error = {"line": getattr(exc, "line", 0), "reason": getattr(exc, "reason", str(exc)),
                               "at": self.clock.now()}
            log.error("automations: rules edit rejected, keeping version %s: %s", self.book.version, exc)
            return False
        self.book, self.loaded_at, self.last_error = book, self.clock.now(), None
        log.info("automations: rules version %s loaded (%d rules)", book.version, len(book.rules))
        return True


async def _no_flush() -> None:
    return None


class Automations:
    def __init__(
        self, deps: Deps, table: Any, *, config: AutomationConfig, rules: RulesWatcher, providers: Providers,
        toggles: Toggles, events: EventLog, follower: Follower | None = None,
        flush: Callable[[], Awaitable[None]] = _no_flush,
    ) -> None:
        self.deps, self.table, self.config, self.rules = deps, table, config, rules
        self.providers, self.toggles, self.events = providers, toggles, events
        self.follower, self.flush = follower, flush

    def tasks(self, alert: Alert) -> list[AutomationTask]:
        """Stage one: a task per rule matching the alert, keyed by its cooldown scope, signed."""
        book, key = self.rules.book, self.config.automation_task_key.get_secret_value()
        return [
            sign(AutomationTask(id=f"{alert.id}|{rule.id}", rule_id=rule.id, scope_key=rule.scope_key(alert),
                                alert=alert.asdict(), rules_version=book.version), key)
            for rule in book.matching(alert)
        ]

    async def handle(self, task: AutomationTask) -> None:
        """Stage two: authenticate, re-match, decide, claim, act, record."""
        key = self.config.automation_task_key.get_secret_value()
        if key and not signed(task, key):
            log.warning("automations: task %s rejected: not signed by this deployment", task.id)
            await self.events.record(self._event(task, None, "rejected", reason="invalid or missing signature"))
            return
        alert = Alert(**task.alert)
        rule = self.rules.book.get(task.rule_id)
        if rule is None:
            await self.events.record(self._event(task, None, "skipped", reason="the rule was removed"))
            return
        if not rule.match(alert) or rule.scope_key(alert) != task.scope_key:
            reason = "the alert does not match the rule in force (re-checked before acting)"
            await self.events.record(self._event(task, rule, "rejected", reason=reason))
            return
        now = self.deps.clock.now()
        mode, why = mode_for(self.config.enable_automations, rule.execute, await self.toggles.enabled("automations"),
                             keyed=bool(key), supported=rule.llm_only or not alert.llm_only)
        stored = self.table.get(task.scope_key)
        held = Claim.from_dict(stored) if stored else None
        verdict = check(held, alert.id, mode, now)
        if verdict == "replay":
            log.info("automations: %s already decided (%s), not again", task.id, held.state if held else "")
            return
        matched = self._event(task, rule, "matched")
        if verdict == "skip" and held is not None:
            reason = f"cooldown: scope {task.scope_key!r} taken by alert {held.alert_id} ({held.mode})"
            await self.events.record(matched, self._event(task, rule, "skipped", reason=reason,
                                                          cooldown_until=held.until))
            return
        try:
            action = rule.render(alert)
        except UnsafeValue as exc:
            await self.events.record(matched, self._event(task, rule, "failed", error=str(exc)))
            return
        claim = held if verdict == "resume" and held else Claim(alert.id, rule.id, mode, "acting", now,
                                                                 now + rule.cooldown_sec)
        if mode == "dry_run":
            self.table[task.scope_key] = claim.ended("done", now).as_dict()
            await self.events.record(matched, self._event(task, rule, "dry_run", action=action, reason=why,
                                                          cooldown_until=claim.until))
            return
        outcome = await self._execute(task, rule, action, claim, look_first=verdict == "resume")
        await self.events.record(matched, *outcome)

    async def _execute(
        self, task: AutomationTask, rule: AutomationRule, action: dict[str, Any], claim: Claim, *, look_first: bool,
    ) -> list[AutomationEvent]:
        provider = self.providers.get(rule.action.kind)
        if provider is None:
            error = f"{rule.action.provider} is not configured (its URL and credentials settings are empty)"
            return [self._event(task, rule, "failed", action=action, error=error)]
        self.table[task.scope_key] = claim.as_dict()
        await self.flush()  # the claim is in the changelog before anything is created
        try:
            response = await provider.execute(action, correlation_id(rule.id, claim.alert_id), look_first=look_first)
        except (StreamAppError, httpx.HTTPError) as exc:
            self.table[task.scope_key] = claim.ended("failed", self.deps.clock.now()).as_dict()
            return [self._event(task, rule, "failed", action=action, error=f"{type(exc).__name__}: {exc}"[:1000])]
        self.table[task.scope_key] = claim.ended("done", self.deps.clock.now()).as_dict()
        if self.follower is not None:

            async def finished(status: dict[str, Any]) -> None:
                await self.events.record(self._event(task, rule, "finished", response=status))

            self.follower.follow(provider, response, finished)
        return [self._event(task, rule, "executed", action=action, response=response, cooldown_until=claim.until)]

    def _event(
        self, task: AutomationTask, rule: AutomationRule | None, decision: str, **fields: Any,
    ) -> AutomationEvent:
        alert_id = task.alert.get("id", "")
        return AutomationEvent(
            id=f"{task.id}|{decision}", alert_id=alert_id, rule_id=task.rule_id, decision=decision,
            provider=rule.action.provider if rule else "", scope_key=task.scope_key,
            correlation_id=correlation_id(task.rule_id, alert_id), rules_version=self.rules.book.version,
            at=self.deps.clock.now(), **fields,
        )


def register(deps: Deps) -> Automations:
    """The two stages, the rules reload timer, the provider clients and the follower (the worker adds the views).
    Registered whatever ENABLE_AUTOMATIONS says: with it off every matching alert is a dry run."""
    app, s = deps.app, deps.settings
    config = AutomationConfig.from_settings(s)
    table = deps.tables["automation_cooldowns"] = cooldowns(app, s)
    tasks_topic = deps.topics.automation_tasks
    providers = Providers.from_config(config)
    follower = Follower(config.automation_follow_interval_sec, config.automation_follow_max_sec)
    app.service(providers)
    app.service(follower)
    automations = Automations(
        deps, table, config=config, rules=RulesWatcher(config.automations_path, deps.clock), providers=providers,
        toggles=deps.toggles(config.toggles_cache_sec),
        events=EventLog(deps.stream_writer(), config.stream_automation_events), follower=follower,
        flush=lambda: app.producer.flush(),
    )

    async def route(alert: Alert) -> None:
        for task in automations.tasks(alert):
            await tasks_topic.send(key=task.scope_key, value=task)

    async def reload() -> None:
        await asyncio.to_thread(automations.rules.check)

    guarded_agent(deps, deps.topics.alerts, "automations", route)
    guarded_agent(deps, tasks_topic, "automations.act", automations.handle)
    guarded_timer(deps, config.automations_reload_sec, "automations.reload", reload)
    return automations
