"""What automations read from the settings object.

`ENABLE_AUTOMATIONS` is a setting already; the others below are proposed additions to `Settings`
(same names, lower-cased). Until they are declared there, each takes the default given here, and
tests set them on a copy of the settings (`settings.model_copy(update=...)`).

| variable | default | meaning |
|---|---|---|
| `AUTOMATIONS_PATH` | empty | Rules file; empty = the shipped `streamapp/automations.yml`. |
| `AUTOMATIONS_RELOAD_SEC` | `2.0` | How often the rules file is checked for changes, seconds. |
| `STREAM_AUTOMATION_EVENTS` | `automation_events` | Redis stream of automation decisions. |
| `AUTOMATION_TIMEOUT_SEC` | `10.0` | Timeout of one provider request, seconds (connect: at most 5 s of it). |
| `AUTOMATION_MAX_TRIES` | `5` | Requests per provider call, retries included (429/5xx/timeouts). |
| `AUTOMATION_BACKOFF_SEC` | `1.0` | First retry wait, doubling up to 60 s (never shorter than Retry-After). |
| `AUTOMATION_FOLLOW_INTERVAL_SEC` | `3.0` | How often a launched AWX job or Terraform run is polled, seconds. |
| `AUTOMATION_FOLLOW_MAX_SEC` | `900.0` | How long a job or run is followed before giving up, seconds. |
| `AWX_URL` | empty | AWX/Tower API base incl. prefix (`https://awx/api/v2/`, AAP 2.5: `.../api/controller/v2/`). |
| `AWX_TOKEN` | empty | AWX OAuth2/personal access token (secret; scope `write`). |
| `TFC_URL` | `https://app.terraform.io/api/v2` | Terraform Cloud/Enterprise API base. |
| `TFC_TOKEN` | empty | Terraform user or team token (secret; organization tokens cannot queue runs). |
| `SERVICENOW_URL` | empty | ServiceNow API base (`https://<instance>.service-now.com/api/now/`). |
| `SERVICENOW_USERNAME` | empty | Integration user (role `itil`). |
| `SERVICENOW_PASSWORD` | empty | Its password (secret). |
| `SERVICENOW_CLIENT_ID` | empty | OAuth client id; set = OAuth password grant, empty = Basic auth. |
| `SERVICENOW_CLIENT_SECRET` | empty | OAuth client secret (secret). |
| `TOGGLES_CACHE_SEC` | `1.0` | How long a worker reuses the runtime toggles it read, seconds. |

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

    @classmethod
    def from_settings(cls, settings: Settings) -> AutomationConfig:
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls) if hasattr(settings, f.name)})
