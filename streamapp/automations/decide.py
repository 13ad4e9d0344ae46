"""The two decisions before an automation acts, pure: execute or dry run, and what the cooldown
table says about this scope (act, skip, or a replay of an alert that already acted)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Mode = Literal["execute", "dry_run"]
Verdict = Literal["act", "skip", "replay", "resume"]


def mode_for(
    enabled: bool, rule_execute: bool, toggle_on: bool, keyed: bool, supported: bool
) -> tuple[Mode, str]:
    """`execute` only when all allow it; otherwise `dry_run` and which of them did not. `supported`:
    the verdict rests on more than an LLM, or the rule accepts one that does not."""
    off = [
        why for ok, why in (
            (enabled, "ENABLE_AUTOMATIONS is off"),
            (rule_execute, "the rule says execute: false"),
            (toggle_on, "the runtime toggle `automations` is off"),
            (keyed, "AUTOMATION_TASK_KEY is not set (tasks cannot be authenticated)"),
            (supported, "only the LLM supports this verdict (the rule does not say llm_only: true)"),
        ) if not ok
    ]
    return ("dry_run", "; ".join(off)) if off else ("execute", "")


@dataclass(frozen=True)
class Claim:
    """A cooldown table value: the alert that took the scope, in which mode, until when, and how
    far it got (`acting` is written before the provider is called, `done`/`failed` after)."""

    alert_id: str
    rule_id: str
    mode: Mode
    state: Literal["acting", "done", "failed"]
    set_at: float
    until: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Claim:
        return cls(**d)

    def ended(self, state: Literal["done", "failed"], now: float) -> Claim:
        """After the action: a failure releases the scope at once (the next alert may try again)."""
        until = now if state == "failed" else self.until
        return Claim(self.alert_id, self.rule_id, self.mode, state, self.set_at, until)


def check(claim: Claim | None, alert_id: str, mode: Mode, now: float) -> Verdict:
    """`replay`: this alert already acted here (a re-delivered task), do nothing again; `resume`:
    it was acting when the worker died, act again but look for what it created first; `skip`:
    another alert holds the scope. A dry run never holds back a real action."""
    if claim is None:
        return "act"
    if claim.alert_id == alert_id:
        return "resume" if claim.state == "acting" else "replay"
    if now < claim.until and (claim.mode == "execute" or mode == "dry_run"):
        return "skip"
    return "act"
