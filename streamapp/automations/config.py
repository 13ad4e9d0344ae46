"""What automations read from the settings object (declared and documented in `Settings`).

A provider whose URL is empty is not configured: its actions fail with that reason (dry runs
still record what would be sent).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from pydantic import SecretStr

from streamapp.settings import Settings

_UNSET = SecretStr("")


@dataclass(frozen=True)
class AutomationConfig:
    enable_automations: bool = False
    automations_path: Path | None = None
    automations_reload_sec: float = 2.0
    stream_automation_events: str = "automation_events"
    automation_timeout_sec: float = 10.0
    automation_max_tries: int = 5
    automation_backoff_sec: float = 1.0
    automation_follow_interval_sec: float = 3.0
    automation_follow_max_sec: float = 900.0
    awx_url: str = ""
    awx_token: SecretStr = _UNSET
    tfc_url: str = "https://app.terraform.io/api/v2"
    tfc_token: SecretStr = _UNSET
    servicenow_url: str = ""
    servicenow_username: str = ""
    servicenow_password: SecretStr = _UNSET
    servicenow_client_id: str = ""
    servicenow_client_secret: SecretStr = _UNSET
    toggles_cache_sec: float = 1.0
    automation_task_key: SecretStr = _UNSET

    @classmethod
    def from_settings(cls, settings: Settings) -> AutomationConfig:
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})
