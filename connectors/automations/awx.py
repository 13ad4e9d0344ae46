"""AWX / Tower / AAP controller: launch a job template and follow the job (API contracts, section 7).

Before launching, the template's launch endpoint says what it accepts: AWX silently ignores extra
vars or a limit the template does not prompt for (a dropped `limit` would run the playbook on the
whole inventory), so such a launch is refused instead. A limit must name exactly one host of the
template's inventory, and no group of it: a host name from an alert that happens to be a group's
name (`webservers`) would run the playbook on every host of that group. The correlation id travels as the extra var
`streamapp_correlation_id`; a launch with an unknown outcome looks for the template's job carrying
it (`extra_vars__contains` list filter) before launching again.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from connectors.automations.http import ActionRefused, ProviderClient, ProviderHTTP, Sleep, json_body, with_slash
from streamapp.automations.config import AutomationConfig
from streamapp.errors import ExternalAPIError

log = logging.getLogger(__name__)

SYSTEM = "awx"
TERMINAL = frozenset({"successful", "failed", "error", "canceled"})
CORRELATION_VAR = "streamapp_correlation_id"


def detail(response: httpx.Response) -> str:
    """DRF error shapes: `{"detail": ...}` or a map of field -> messages."""
    body = json_body(response)
    if isinstance(body, dict):
        if "detail" in body:
            return str(body["detail"])
        return "; ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in body.items())
    return response.text[:200] or response.reason_phrase


def _job_id(body: dict[str, Any]) -> int:
    job = body.get("job", body.get("id"))
    if isinstance(job, bool) or not isinstance(job, int):
        raise ExternalAPIError(SYSTEM, 200, f"no job id in the answer: {str(body)[:200]}")
    return job


class AWX(ProviderClient):
    provider = SYSTEM

    @classmethod
    def from_config(
        cls, config: AutomationConfig, *, transport: httpx.AsyncBaseTransport | None = None, sleep: Sleep | None = None,
    ) -> AWX | None:
        if not config.awx_url:
            return None
        headers = {"Authorization": f"Bearer {config.awx_token.get_secret_value()}"}
        return cls(ProviderHTTP.build(SYSTEM, with_slash(config.awx_url), config, detail=detail, headers=headers,
                                      transport=transport, sleep=sleep))

    async def execute(self, action: dict[str, Any], correlation_id: str, *, look_first: bool = False) -> dict[str, Any]:
        template = int(action["template_id"])
        if look_first and (found := await self.find(template, correlation_id)) is not None:
            return self._summary(found, recovered=True)
        launch = f"job_templates/{template}/launch/"
        await self._check_prompts(launch, "limit" in action)
        if "limit" in action:
            await self._check_one_host(template, action["limit"])
        body: dict[str, Any] = {"extra_vars": {**action.get("extra_vars", {}), CORRELATION_VAR: correlation_id}}
        if "limit" in action:
            body["limit"] = action["limit"]
        created = await self.http.create(launch, body, lambda: self.find(template, correlation_id))
        summary = self._summary(created.body, created.recovered)
        if summary["ignored_fields"]:
            log.warning("awx: job %s launched, but AWX ignored %s", summary["job"], summary["ignored_fields"])
        return summary

    async def _check_prompts(self, launch: str, with_limit: bool) -> None:
        spec = await self.http.get(launch)
        spec = spec if isinstance(spec, dict) else {}
        missing = []
        if not (spec.get("ask_variables_on_launch") or spec.get("survey_enabled")):
            missing.append("extra_vars (enable 'prompt on launch' for variables, or a survey)")
        if with_limit and not spec.get("ask_limit_on_launch"):
            missing.append("limit (enable 'prompt on launch' for the limit)")
        if missing:
            raise ActionRefused(f"awx: the job template would ignore {' and '.join(missing)}; not launched")

    async def _check_one_host(self, template: int, limit: str) -> None:
        spec = await self.http.get(f"job_templates/{template}/")
        inventory = spec.get("inventory") if isinstance(spec, dict) else None
        if isinstance(inventory, bool) or not isinstance(inventory, int):
            raise ActionRefused(f"awx: job template {template} has no inventory to check the limit against")
        counts = []
        for kind in ("hosts", "groups"):
            page = await self.http.get(f"inventories/{inventory}/{kind}/", params={"name": limit})
            counts.append(page.get("count") if isinstance(page, dict) else None)
        if counts != [1, 0]:
            raise ActionRefused(f"awx: the limit {limit[:80]!r} is not exactly one host of inventory {inventory} "
                                f"({counts[0]} hosts, {counts[1]} groups of that name); not launched")

    async def find(self, template: int, correlation_id: str) -> dict[str, Any] | None:
        """The newest job of the template launched with this correlation id."""
        page = await self.http.get("jobs/", params={
            "job_template": template, "extra_vars__contains": correlation_id, "order_by": "-id", "page_size": 1,
        })
        results = page.get("results") if isinstance(page, dict) else None
        return results[0] if results else None

    async def follow(self, response: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """(finished?, the job's status fields)."""
        job = await self.http.get(f"jobs/{int(response['job'])}/")
        job = job if isinstance(job, dict) else {}
        status = {k: job.get(k) for k in ("status", "failed", "started", "finished", "elapsed", "job_explanation")}
        return job.get("status") in TERMINAL, {"job": response["job"], **status}

    @staticmethod
    def _summary(body: dict[str, Any], recovered: bool) -> dict[str, Any]:
        return {
            "job": _job_id(body), "status": body.get("status", ""), "url": body.get("url", ""),
            "ignored_fields": body.get("ignored_fields") or {}, "recovered": recovered,
        }
