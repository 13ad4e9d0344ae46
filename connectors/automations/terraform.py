"""HCP Terraform / Terraform Enterprise: queue a run on a workspace and follow it (API contracts,
section 8; JSON:API bodies). Runs have no tags, so the correlation id ends the run message in
brackets; a create with an unknown outcome looks through the workspace's latest runs for it."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import httpx

from connectors.automations.http import ProviderClient, ProviderHTTP, Sleep, json_body
from streamapp.automations.config import AutomationConfig
from streamapp.errors import ExternalAPIError

SYSTEM = "terraform"
JSON_API = "application/vnd.api+json"
TERMINAL = frozenset({
    "applied", "planned_and_finished", "planned_and_saved", "errored", "discarded", "canceled", "force_canceled",
    "policy_soft_failed",
})
_WORKSPACE_ID = re.compile(r"ws-[A-Za-z0-9]+")
_RUN_ID = re.compile(r"run-[A-Za-z0-9]+")
RECENT_RUNS = 20  # runs searched for a correlation id (newest first)


def detail(response: httpx.Response) -> str:
    body = json_body(response)
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors:
        first = errors[0]
        if isinstance(first, dict):
            return str(first.get("detail") or first.get("title") or first)
        return str(first)
    return response.text[:200] or response.reason_phrase


def reset_after(headers: httpx.Headers) -> float | None:
    """`X-RateLimit-Reset`: seconds until the limit resets (may be fractional)."""
    try:
        return max(0.0, float(headers["x-ratelimit-reset"]))
    except (KeyError, ValueError):
        return None


def _checked(regex: re.Pattern[str], value: Any, what: str) -> str:
    if not isinstance(value, str) or not regex.fullmatch(value):
        raise ExternalAPIError(SYSTEM, 200, f"unexpected {what} {str(value)[:80]!r}")
    return value


class Terraform(ProviderClient):
    provider = SYSTEM

    def __init__(self, http: ProviderHTTP) -> None:
        super().__init__(http)
        self._workspaces: dict[tuple[str, str], str] = {}

    @classmethod
    def from_config(
        cls, config: AutomationConfig, *, transport: httpx.AsyncBaseTransport | None = None, sleep: Sleep | None = None,
    ) -> Terraform | None:
        if not config.tfc_url or not config.tfc_token.get_secret_value():
            return None
        headers = {"Authorization": f"Bearer {config.tfc_token.get_secret_value()}", "Accept": JSON_API}
        return cls(ProviderHTTP.build(SYSTEM, config.tfc_url, config, detail=detail, headers=headers,
                                      reset=reset_after, transport=transport, sleep=sleep))

    async def execute(self, action: dict[str, Any], correlation_id: str, *, look_first: bool = False) -> dict[str, Any]:
        workspace = action.get("workspace_id") or await self.workspace_id(action["organization"], action["workspace"])
        _checked(_WORKSPACE_ID, workspace, "workspace id")
        marker = f"[{correlation_id}]"
        if look_first and (found := await self.find(workspace, marker)) is not None:
            return self._summary(found, workspace, recovered=True)
        attributes: dict[str, Any] = {"message": f"{action['message']} {marker}"}
        if "auto_apply" in action:
            attributes["auto-apply"] = action["auto_apply"]
        if action.get("variables"):
            attributes["variables"] = action["variables"]
        body = {"data": {
            "type": "runs", "attributes": attributes,
            "relationships": {"workspace": {"data": {"type": "workspaces", "id": workspace}}},
        }}
        created = await self.http.create("runs", body, lambda: self.find(workspace, marker), content_type=JSON_API)
        return self._summary(created.body, workspace, created.recovered)

    async def workspace_id(self, organization: str, name: str) -> str:
        """A workspace's id from its organization and name (looked up once)."""
        key = (organization, name)
        if key not in self._workspaces:
            org, ws = quote(organization, safe=""), quote(name, safe="")
            body = await self.http.get(f"organizations/{org}/workspaces/{ws}")
            data = body.get("data") if isinstance(body, dict) else None
            self._workspaces[key] = _checked(_WORKSPACE_ID, (data or {}).get("id"), "workspace id")
        return self._workspaces[key]

    async def find(self, workspace: str, marker: str) -> dict[str, Any] | None:
        """The newest of the workspace's recent runs whose message carries the marker."""
        page = await self.http.get(f"workspaces/{workspace}/runs", params={"page[size]": RECENT_RUNS})
        for run in (page.get("data") if isinstance(page, dict) else None) or []:
            if str(run.get("attributes", {}).get("message", "")).endswith(marker):
                return {"data": run}
        return None

    async def follow(self, response: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """(finished or waiting for a person?, the run's status)."""
        run_id = _checked(_RUN_ID, response.get("run"), "run id")
        body = await self.http.get(f"runs/{run_id}")
        attributes = ((body or {}).get("data") or {}).get("attributes") or {}
        status = attributes.get("status", "")
        confirmable = bool((attributes.get("actions") or {}).get("is-confirmable"))
        summary = {"run": run_id, "status": status, "needs_confirmation": confirmable}
        return status in TERMINAL or confirmable, summary

    @staticmethod
    def _summary(body: dict[str, Any], workspace: str, recovered: bool) -> dict[str, Any]:
        data = body.get("data") or {}
        return {
            "run": _checked(_RUN_ID, data.get("id"), "run id"), "workspace_id": workspace,
            "status": (data.get("attributes") or {}).get("status", ""), "recovered": recovered,
        }
