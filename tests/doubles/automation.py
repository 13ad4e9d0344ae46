"""Local doubles of AWX, HCP Terraform and ServiceNow for tests (API contracts, sections 7-9 and 12).

    with AWXDouble() as awx, TerraformDouble() as tfc, ServiceNowDouble() as sn:
        awx.url, tfc.url, sn.url          # API bases for AWX_URL, TFC_URL, SERVICENOW_URL
        awx.scenario = "throttle"         # every request from now on
        sn.enqueue("slow")                # the next request only, then `scenario` again
        awx.calls                         # every request received, in order (counts include refused ones)
        awx.jobs, tfc.runs, sn.incidents  # what was created

Each serves on a loopback port from a background thread and checks credentials the way its system
does, with that system's error bodies and its own throttle signal: AWX (behind a proxy) 429 with
`Retry-After`; Terraform 429 JSON:API with `x-ratelimit-limit` and fractional `X-RateLimit-Reset`,
no `Retry-After`; ServiceNow `X-RateLimit-*` on every answer under a rate-limit rule, then 429 with
`Retry-After`. Shared scenarios: `ok`, `throttle`, `server_error` (500), `unavailable` (503 without
a wait), `unauthorized` (401), `forbidden` (403), and `slow` (the create is applied, the answer
comes `slow_sec` later: a client with a shorter timeout sees a timeout for a created object).
Jobs and runs move through their statuses one step per status poll (a deterministic script).
Where a contract detail is unverified (a wrong AWX token's wording, Terraform's answer to an
organization token or a wrong content type), the double picks one and says so.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.doubles.serving import Call, Scenarios, ServedApp, stall

Handler = Callable[[Request, Call], Awaitable[Response]]
SCENARIOS = frozenset({"ok", "throttle", "server_error", "unavailable", "unauthorized", "forbidden", "slow"})


class HTTPDouble(Scenarios[Call], ServedApp):
    """What the three share: request parsing, the failure hook and `calls_to`. `reset()` leaves
    created objects in place."""

    name = "double"
    scenarios = SCENARIOS

    def __init__(self, *, slow_sec: float = 1.5) -> None:
        super().__init__()
        self.slow_sec = slow_sec

    def calls_to(self, method: str, fragment: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and fragment in c.path]

    # --- request plumbing ------------------------------------------------------------------------
    def route(self, path: str, handler: Handler, methods: list[str]) -> Route:
        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            try:
                body: Any = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
            if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                body = dict(urllib.parse.parse_qsl(raw.decode()))
            call = self._log(Call(request.method, request.url.path, dict(request.query_params),
                                  {k.lower(): v for k, v in request.headers.items()}, body, self._take()))
            failure = self.failure(call)
            return failure if failure is not None else await handler(request, call)

        return Route(path, endpoint, methods=methods)

    def failure(self, call: Call) -> Response | None:
        """The answer of a failure scenario, in the system's own shape (None: serve normally)."""
        return None


def _bearer(call: Call) -> str:
    scheme, _, token = call.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


# ============================================================================================ AWX
AWX_TERMINAL = frozenset({"successful", "failed", "error", "canceled"})
AWX_SCRIPTS = {
    "successful": ("pending", "waiting", "running", "successful"),
    "failed": ("pending", "waiting", "running", "failed"),
    "error": ("pending", "waiting", "error"),
}


@dataclass
class AWXTemplate:
    id: int
    inventory: int = 1
    ask_variables_on_launch: bool = True
    ask_limit_on_launch: bool = True
    survey_enabled: bool = False
    variables_needed: tuple[str, ...] = ()
    outcome: str = "successful"  # the script its jobs follow (AWX_SCRIPTS)


@dataclass
class AWXJob:
    id: int
    template: int
    extra_vars: dict[str, Any]
    limit: str
    script: tuple[str, ...]
    step: int = 0
    canceled: bool = False

    @property
    def status(self) -> str:
        return "canceled" if self.canceled else self.script[self.step]

    def as_json(self) -> dict[str, Any]:
        status = self.status
        done = status in AWX_TERMINAL
        explanation = {"error": "Job terminated due to error", "canceled": "Job was canceled"}.get(status, "")
        return {
            "id": self.id, "type": "job", "url": f"/api/v2/jobs/{self.id}/", "status": status,
            "failed": status in ("failed", "error"), "started": "2026-01-01T00:00:01Z" if self.step else None,
            "finished": "2026-01-01T00:00:09Z" if done else None, "elapsed": 8.0 if done else 0.0,
            "job_template": self.template, "job_explanation": explanation, "limit": self.limit,
            "extra_vars": json.dumps(self.extra_vars),  # AWX stores and returns them as text
            "related": {"stdout": f"/api/v2/jobs/{self.id}/stdout/", "cancel": f"/api/v2/jobs/{self.id}/cancel/"},
        }


class AWXDouble(HTTPDouble):
    """AWX/Tower on `/api/v2/` and AAP 2.5's `/api/controller/v2/`. Template 42 accepts extra vars
    and a limit; `add_template` adds others. A wrong token gets the same 401 as a missing one
    (wording unverified)."""

    name = "awx"
    PREFIXES = ("/api/v2", "/api/controller/v2")

    def __init__(self, token: str = "awx-token-0123", **kw: Any) -> None:
        super().__init__(**kw)
        self.token = token
        self.templates: dict[int, AWXTemplate] = {42: AWXTemplate(42)}
        # Inventory 1: hosts web-01..web-20 and db-01..db-05, grouped as webservers and databases.
        self.inventories: dict[int, dict[str, set[str]]] = {1: {
            "hosts": {f"web-{i:02d}" for i in range(1, 21)} | {f"db-{i:02d}" for i in range(1, 6)},
            "groups": {"webservers", "databases"},
        }}
        self.jobs: dict[int, AWXJob] = {}
        self._ids = itertools.count(1000)

    @property
    def url(self) -> str:
        return f"{self.root_url}/api/v2/"

    @property
    def url_aap25(self) -> str:
        return f"{self.root_url}/api/controller/v2/"

    def add_template(self, template_id: int, **config: Any) -> AWXTemplate:
        self.templates[template_id] = AWXTemplate(template_id, **config)
        return self.templates[template_id]

    def routes(self) -> list[Route]:
        out = []
        for p in self.PREFIXES:
            out += [
                self.route(p + "/job_templates/{tid:int}/launch/", self._launch, ["GET", "POST"]),
                self.route(p + "/job_templates/{tid:int}/", self._template, ["GET"]),
                self.route(p + "/inventories/{iid:int}/hosts/", self._inventory_list, ["GET"]),
                self.route(p + "/inventories/{iid:int}/groups/", self._inventory_list, ["GET"]),
                self.route(p + "/jobs/", self._list_jobs, ["GET"]),
                self.route(p + "/jobs/{jid:int}/", self._job, ["GET"]),
                self.route(p + "/jobs/{jid:int}/stdout/", self._stdout, ["GET"]),
                self.route(p + "/jobs/{jid:int}/cancel/", self._cancel, ["POST"]),
            ]
        return out

    def failure(self, call: Call) -> Response | None:
        if call.scenario == "unauthorized" or _bearer(call) != self.token:
            return JSONResponse({"detail": "Authentication credentials were not provided. To establish a login "
                                           "session, visit /api/login/."}, 401, headers={"WWW-Authenticate": "Bearer"})
        return {
            "forbidden": JSONResponse({"detail": "You do not have permission to perform this action."}, 403),
            "throttle": JSONResponse({"detail": "Request was throttled."}, 429, headers={"Retry-After": "1"}),
            "server_error": JSONResponse({"detail": "A server error has occurred."}, 500),
            "unavailable": PlainTextResponse("Service Unavailable", 503),
        }.get(call.scenario)

    async def _launch(self, request: Request, call: Call) -> Response:
        template = self.templates.get(request.path_params["tid"])
        if template is None:
            return JSONResponse({"detail": "Not found."}, 404)
        if call.method == "GET":
            return JSONResponse({
                "can_start_without_user_input": not template.variables_needed,
                "ask_variables_on_launch": template.ask_variables_on_launch,
                "ask_limit_on_launch": template.ask_limit_on_launch, "survey_enabled": template.survey_enabled,
                "variables_needed_to_start": list(template.variables_needed), "passwords_needed_to_start": [],
                "defaults": {"extra_vars": "", "limit": ""},
            })
        body = call.body if isinstance(call.body, dict) else {}
        extra = body.get("extra_vars") or {}
        if isinstance(extra, str):
            extra = json.loads(extra) if extra.strip() else {}
        missing = [v for v in template.variables_needed if v not in extra]
        if missing:
            return JSONResponse({"variables_needed_to_start": [f"'{v}' value missing" for v in missing]}, 400)
        ignored: dict[str, Any] = {}
        if extra and not (template.ask_variables_on_launch or template.survey_enabled):
            ignored["extra_vars"], extra = extra, {}
        limit = body.get("limit", "")
        if limit and not template.ask_limit_on_launch:
            ignored["limit"], limit = limit, ""
        job = AWXJob(next(self._ids), template.id, extra, limit, AWX_SCRIPTS[template.outcome])
        self.jobs[job.id] = job
        if call.scenario == "slow":
            await stall(request, self.slow_sec)
        return JSONResponse({**job.as_json(), "job": job.id, "ignored_fields": ignored}, 201,
                            headers={"Location": f"/api/v2/jobs/{job.id}/"})

    async def _template(self, request: Request, call: Call) -> Response:
        template = self.templates.get(request.path_params["tid"])
        if template is None:
            return JSONResponse({"detail": "Not found."}, 404)
        return JSONResponse({"id": template.id, "type": "job_template", "inventory": template.inventory,
                             "ask_limit_on_launch": template.ask_limit_on_launch})

    async def _inventory_list(self, request: Request, call: Call) -> Response:
        """An inventory's hosts or groups; `name` filters by exact name, as AWX's list filters do."""
        inventory = self.inventories.get(request.path_params["iid"])
        if inventory is None:
            return JSONResponse({"detail": "Not found."}, 404)
        kind = "hosts" if request.url.path.endswith("/hosts/") else "groups"
        names = sorted(n for n in inventory[kind] if "name" not in call.query or n == call.query["name"])
        return JSONResponse({"count": len(names), "next": None, "previous": None,
                             "results": [{"name": n, "type": kind[:-1]} for n in names]})

    async def _list_jobs(self, request: Request, call: Call) -> Response:
        q = call.query
        jobs = sorted(self.jobs.values(), key=lambda j: j.id, reverse=q.get("order_by") == "-id")
        if "job_template" in q:
            jobs = [j for j in jobs if str(j.template) == q["job_template"]]
        if "extra_vars__contains" in q:
            jobs = [j for j in jobs if q["extra_vars__contains"] in json.dumps(j.extra_vars)]
        size = min(200, int(q.get("page_size", 25)))
        return JSONResponse({"count": len(jobs), "next": None, "previous": None,
                             "results": [j.as_json() for j in jobs[:size]]})

    async def _job(self, request: Request, call: Call) -> Response:
        job = self.jobs.get(request.path_params["jid"])
        if job is None:
            return JSONResponse({"detail": "Not found."}, 404)
        answer = job.as_json()
        if job.status not in AWX_TERMINAL:
            job.step += 1  # the next poll sees the next status
        return JSONResponse(answer)

    async def _stdout(self, request: Request, call: Call) -> Response:
        job = self.jobs.get(request.path_params["jid"])
        if job is None:
            return JSONResponse({"detail": "Not found."}, 404)
        return PlainTextResponse(f"PLAY [all] ****\nTASK [run] ****\nok: [{job.limit or 'localhost'}]\n")

    async def _cancel(self, request: Request, call: Call) -> Response:
        job = self.jobs.get(request.path_params["jid"])
        if job is None:
            return JSONResponse({"detail": "Not found."}, 404)
        if job.status in AWX_TERMINAL:
            return JSONResponse({"error": "Job cannot be canceled."}, 405)
        job.canceled = True
        return Response(status_code=202)


# ====================================================================================== Terraform
TFC_SCRIPTS = {
    "auto": ("pending", "planning", "planned", "apply_queued", "applying", "applied"),
    "manual": ("pending", "planning", "planned"),  # parks, confirmable, until /actions/apply
    "errored": ("pending", "planning", "errored"),
    "no_changes": ("pending", "planning", "planned_and_finished"),
}
TFC_FINAL = frozenset({"applied", "errored", "planned_and_finished", "discarded", "canceled"})
JSON_API = "application/vnd.api+json"


@dataclass
class TFCRun:
    id: str
    workspace: str
    message: str
    auto_apply: bool
    variables: list[dict[str, str]]
    script: tuple[str, ...]
    step: int = 0

    @property
    def status(self) -> str:
        return self.script[self.step]

    def as_json(self) -> dict[str, Any]:
        confirmable = self.status == "planned" and self.step == len(self.script) - 1
        return {
            "id": self.id, "type": "runs",
            "attributes": {
                "status": self.status, "message": self.message, "is-destroy": False, "auto-apply": self.auto_apply,
                "source": "tfe-api", "created-at": "2026-01-01T00:00:00.000Z", "variables": self.variables,
                "actions": {"is-cancelable": self.status not in TFC_FINAL, "is-confirmable": confirmable,
                            "is-discardable": confirmable},
            },
            "relationships": {"workspace": {"data": {"type": "workspaces", "id": self.workspace}}},
            "links": {"self": f"/api/v2/runs/{self.id}"},
        }


def _tfc_error(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"errors": [{"status": str(status), "title": title, "detail": detail}]}, status,
                        headers=headers, media_type=JSON_API)


class TerraformDouble(HTTPDouble):
    """HCP Terraform under `/api/v2`. `add_workspace(org, name, mode)` with a mode of TFC_SCRIPTS.
    An organization token may read but not queue runs (answered 404, as for runs it cannot see;
    unverified); a POST without the JSON:API content type gets 415 (unverified)."""

    name = "terraform"

    def __init__(self, token: str = "user-token.atlasv1.0123", org_token: str = "org-token.atlasv1.4567",
                 **kw: Any) -> None:
        super().__init__(**kw)
        self.token, self.org_token = token, org_token
        self.workspaces: dict[str, dict[str, str]] = {}
        self.runs: dict[str, TFCRun] = {}

    @property
    def url(self) -> str:
        return f"{self.root_url}/api/v2"

    def add_workspace(self, organization: str, name: str, mode: str = "auto") -> str:
        ws = "ws-" + secrets.token_hex(8)
        self.workspaces[ws] = {"organization": organization, "name": name, "mode": mode}
        return ws

    def routes(self) -> list[Route]:
        return [
            self.route("/api/v2/organizations/{org}/workspaces/{name}", self._workspace, ["GET"]),
            self.route("/api/v2/workspaces/{ws}/runs", self._list_runs, ["GET"]),
            self.route("/api/v2/runs", self._create, ["POST"]),
            self.route("/api/v2/runs/{rid}", self._run, ["GET"]),
            self.route("/api/v2/runs/{rid}/actions/apply", self._apply, ["POST"]),
        ]

    def failure(self, call: Call) -> Response | None:
        if call.scenario == "unauthorized" or _bearer(call) not in (self.token, self.org_token):
            return _tfc_error(401, "unauthorized", "")
        if call.scenario == "throttle":
            return _tfc_error(429, "Too many requests", "You have exceeded the API's rate limit.",
                              {"x-ratelimit-limit": "30", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "0.05"})
        return {
            "forbidden": _tfc_error(404, "not found", ""),
            "server_error": _tfc_error(500, "internal server error", ""),
            "unavailable": _tfc_error(503, "service unavailable", ""),
        }.get(call.scenario)

    async def _workspace(self, request: Request, call: Call) -> Response:
        p = request.path_params
        for ws, info in self.workspaces.items():
            if info["organization"] == p["org"] and info["name"] == p["name"]:
                return JSONResponse({"data": {"id": ws, "type": "workspaces", "attributes": {"name": info["name"]}}},
                                    media_type=JSON_API)
        return _tfc_error(404, "not found", "")

    async def _list_runs(self, request: Request, call: Call) -> Response:
        if request.path_params["ws"] not in self.workspaces:
            return _tfc_error(404, "not found", "")
        runs = [r for r in reversed(self.runs.values()) if r.workspace == request.path_params["ws"]]
        size = min(100, int(call.query.get("page[size]", 20)))
        return JSONResponse({"data": [r.as_json() for r in runs[:size]], "links": {"next": None},
                             "meta": {"pagination": {"current-page": 1, "total-count": len(runs)}}},
                            media_type=JSON_API)

    async def _create(self, request: Request, call: Call) -> Response:
        if not call.headers.get("content-type", "").startswith(JSON_API):
            return _tfc_error(415, "unsupported media type", f"Content-Type must be {JSON_API}")
        if _bearer(call) == self.org_token:
            return _tfc_error(404, "not found", "")
        data = call.body.get("data") if isinstance(call.body, dict) else None
        try:
            ws = data["relationships"]["workspace"]["data"]["id"] if data["type"] == "runs" else None
            attributes = data.get("attributes") or {}
        except (TypeError, KeyError):
            ws = None
        if ws is None:
            return _tfc_error(422, "invalid attribute", "type must be runs; relationships.workspace is required")
        if ws not in self.workspaces:
            return _tfc_error(404, "not found", "")
        variables = attributes.get("variables") or []
        for var in variables:
            try:
                json.loads(var["value"])  # an HCL literal: strings quoted (JSON-compatible here)
            except (KeyError, TypeError, ValueError):
                return _tfc_error(422, "invalid attribute", f"Run variable {var!r} is not an HCL literal")
        run = TFCRun("run-" + secrets.token_hex(8), ws,
                     attributes.get("message", "Queued manually via the Terraform Enterprise API"),
                     bool(attributes.get("auto-apply", False)), variables, TFC_SCRIPTS[self.workspaces[ws]["mode"]])
        self.runs[run.id] = run
        if call.scenario == "slow":
            await stall(request, self.slow_sec)
        return JSONResponse({"data": run.as_json()}, 201, media_type=JSON_API)

    async def _run(self, request: Request, call: Call) -> Response:
        run = self.runs.get(request.path_params["rid"])
        if run is None:
            return _tfc_error(404, "not found", "")
        answer = run.as_json()
        if run.step < len(run.script) - 1:
            run.step += 1
        return JSONResponse({"data": answer}, media_type=JSON_API)

    async def _apply(self, request: Request, call: Call) -> Response:
        run = self.runs.get(request.path_params["rid"])
        if run is None:
            return _tfc_error(404, "not found", "")
        if not run.as_json()["attributes"]["actions"]["is-confirmable"]:
            return _tfc_error(409, "conflict", "Run is not confirmable")
        run.script, run.step = (*run.script, "apply_queued", "applying", "applied"), run.step + 1
        return Response(status_code=202)


# ===================================================================================== ServiceNow
SN_INCIDENT_FIELDS = frozenset({
    "short_description", "description", "urgency", "impact", "assignment_group", "caller_id", "category",
    "subcategory", "cmdb_ci", "business_service", "contact_type", "correlation_id", "correlation_display",
    "work_notes", "state", "active",
})
SN_REFERENCES = frozenset({"assignment_group", "caller_id", "cmdb_ci", "business_service"})


def _sn_error(status: int, message: str, detail: str | None, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "detail": detail}, "status": "failure"}, status,
                        headers=headers)


@dataclass
class RateRule:
    """A ServiceNow inbound rate-limit rule: `limit` requests per `window_sec`."""

    limit: int
    window_sec: float = 3600.0
    name: str = "Table API - incidents"
    started: float = field(default_factory=time.time)
    used: int = 0


class ServiceNowDouble(HTTPDouble):
    """A ServiceNow instance: the Table API for incidents under `/api/now/` (and `/api/now/v2/`),
    Basic auth for `username`/`password`, and `/oauth_token.do` tokens that expire after
    `token_ttl_sec` (answering `expires_in: 1799` whatever it is set to, as a token revoked
    early would); `expire_tokens()` ends every token at once."""

    name = "servicenow"

    def __init__(self, username: str = "svc.streamapp", password: str = "pw-0123",
                 client_id: str = "cid-0123", client_secret: str = "csecret-0123", **kw: Any) -> None:
        super().__init__(**kw)
        self.username, self.password = username, password
        self.client_id, self.client_secret = client_id, client_secret
        self.token_ttl_sec = 1799.0
        self.tokens: dict[str, float] = {}  # access token -> expiry (time.monotonic)
        self.refresh_tokens: set[str] = set()
        self.incidents: dict[str, dict[str, str]] = {}
        self.rate_rule: RateRule | None = None
        self.retry_after_sec = 1
        self._numbers = itertools.count(10001)

    @property
    def url(self) -> str:
        return f"{self.root_url}/api/now/"

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def routes(self) -> list[Route]:
        return [
            self.route("/oauth_token.do", self._token, ["POST"]),
            *(self.route(p + "table/{table}", self._table, ["GET", "POST"]) for p in ("/api/now/", "/api/now/v2/")),
        ]

    def failure(self, call: Call) -> Response | None:
        if call.path == "/oauth_token.do":
            return None
        if call.scenario == "unauthorized" or not self._authenticated(call):
            return _sn_error(401, "User Not Authenticated", "Required to provide Auth information")
        if self.rate_rule is not None:
            refused = self._rate_limited()
            if refused is not None:
                return refused
        return {
            "forbidden": _sn_error(403, "Operation Failed", "ACL Exception Insert Failed due to security constraints"),
            "throttle": _sn_error(429, "Rate limit exceeded", "Rate limit of 10 requests per hour for Table API "
                                  "exceeded", {"Retry-After": str(self.retry_after_sec)}),
            "server_error": _sn_error(500, "Internal server error", None),
            "unavailable": PlainTextResponse("Service Unavailable", 503),
        }.get(call.scenario)

    def _authenticated(self, call: Call) -> bool:
        scheme, _, value = call.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            user, _, password = base64.b64decode(value).decode(errors="replace").partition(":")
            return (user, password) == (self.username, self.password)
        expiry = self.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        return expiry is not None and time.monotonic() < expiry

    def _rate_limited(self) -> Response | None:
        rule = self.rate_rule
        assert rule is not None
        if time.time() - rule.started >= rule.window_sec:
            rule.started, rule.used = time.time(), 0
        rule.used += 1
        headers = {"X-RateLimit-Limit": str(rule.limit), "X-RateLimit-Reset": str(int(rule.started + rule.window_sec)),
                   "X-RateLimit-Rule": rule.name}
        if rule.used > rule.limit:
            return _sn_error(429, "Rate limit exceeded", f"Rate limit of {rule.limit} requests per hour for Table "
                             "API exceeded", {**headers, "Retry-After": str(self.retry_after_sec)})
        return None

    async def _token(self, request: Request, call: Call) -> Response:
        form = call.body if isinstance(call.body, dict) else {}
        client_ok = (form.get("client_id"), form.get("client_secret")) == (self.client_id, self.client_secret)
        if form.get("grant_type") == "password":
            ok = client_ok and (form.get("username"), form.get("password")) == (self.username, self.password)
        elif form.get("grant_type") == "refresh_token":
            ok = client_ok and form.get("refresh_token") in self.refresh_tokens
        else:
            ok = False
        if not ok:
            return JSONResponse({"error_description": "access_denied", "error": "server_error"}, 401)
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.tokens[access] = time.monotonic() + self.token_ttl_sec
        self.refresh_tokens.add(refresh)
        return JSONResponse({"access_token": access, "refresh_token": refresh, "scope": "useraccount",
                             "token_type": "Bearer", "expires_in": 1799})

    async def _table(self, request: Request, call: Call) -> Response:
        if request.path_params["table"] != "incident":
            return _sn_error(404, "Invalid table " + request.path_params["table"], None)
        if call.method == "GET":
            rows = [r for r in self.incidents.values() if _matches(r, call.query.get("sysparm_query", ""))]
            rows = rows[: int(call.query.get("sysparm_limit", 10000))]
            return JSONResponse({"result": [self._shaped(r, call.query) for r in rows]},
                                headers={"X-Total-Count": str(len(rows))})
        if not isinstance(call.body, dict):
            return _sn_error(400, "Exception while reading request", "The payload is not valid JSON.")
        row = {k: str(v) for k, v in call.body.items() if k in SN_INCIDENT_FIELDS}  # others: silently ignored
        sys_id = secrets.token_hex(16)
        urgency, impact = int(row.get("urgency", "3")), int(row.get("impact", "3"))
        row.update(sys_id=sys_id, number=f"INC{next(self._numbers):07d}", state=row.get("state", "1"),
                   active="true", urgency=str(urgency), impact=str(impact), priority=str(min(5, urgency + impact - 1)))
        self.incidents[sys_id] = row
        if call.scenario == "slow":
            await stall(request, self.slow_sec)
        location = {"Location": f"{self.root_url}/api/now/table/incident/{sys_id}"}
        if call.headers.get("x-no-response-body", "").lower() == "true":
            return Response(status_code=201, headers=location)
        return JSONResponse({"result": self._shaped(row, call.query)}, 201, headers=location)

    def _shaped(self, row: dict[str, str], query: dict[str, str]) -> dict[str, Any]:
        wanted = [f for f in query.get("sysparm_fields", "").split(",") if f]
        out: dict[str, Any] = {k: row.get(k, "") for k in wanted} if wanted else dict(row)
        if query.get("sysparm_exclude_reference_link", "").lower() != "true":
            for key in SN_REFERENCES & out.keys():
                if out[key]:
                    out[key] = {"link": f"{self.root_url}/api/now/table/x/{out[key]}", "value": out[key]}
        return out


def _matches(row: dict[str, str], query: str) -> bool:
    """An encoded query of `field=value` terms joined by `^` (AND), the only form the double reads."""
    for term in filter(None, query.split("^")):
        name, _, value = term.partition("=")
        if row.get(name, "") != value:
            return False
    return True
