"""Automation tasks signed by the stage that matched them (pure): `automation_tasks` is a Kafka
topic, and whoever can write to Kafka could otherwise have any rule act on any alert. The key
(AUTOMATION_TASK_KEY) is shared by the workers; the signature covers every field the acting stage
reads, and is checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import json

from streamapp.automations.records import AutomationTask


def _digest(task: AutomationTask, key: str) -> str:
    content = json.dumps([task.id, task.rule_id, task.scope_key, task.alert, task.rules_version], sort_keys=True,
                         separators=(",", ":"), default=str)
    return hmac.new(key.encode(), content.encode(), hashlib.sha256).hexdigest()


def sign(task: AutomationTask, key: str) -> AutomationTask:
    """`task` with its signature (unchanged without a key)."""
    if key:
        task.signature = _digest(task, key)
    return task


def signed(task: AutomationTask, key: str) -> bool:
    """The signature is this deployment's (never true without a key)."""
    return bool(key) and hmac.compare_digest(task.signature, _digest(task, key))
