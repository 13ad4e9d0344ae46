"""The data-source endpoints, all behind the admin token:

    GET    /sources                   every source (never its secrets)
    POST   /sources                   create: {name, type, enabled?, config, secrets?}; a Telegraf
                                      source's token is in the answer, once, and stored only hashed
    GET    /sources/{id}              one source
    PUT    /sources/{id}              change name, config, secrets (merged), enabled
    POST   /sources/{id}/enable       /disable: switch it on or off
    DELETE /sources/{id}
    GET    /sources/{id}/status       what its producer reports (running, last success/error, lines, bytes)

A config the source type refuses is a 422 naming the field; the producer manager picks changes up
at once (LISTEN/NOTIFY) or at the next reconcile.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.datasources import DataSourceStore
from connectors.sources.registry import MODULES, PUSH_TYPES, producer_class
from streamapp.api.alerts import admin_only, json_body
from streamapp.api.errors import ApiError, error
from streamapp.auth import new_token, token_hash
from streamapp.errors import ConfigError
from streamapp.settings import Settings

TYPES = sorted({*MODULES, *PUSH_TYPES})
_FIELDS = {"name", "type", "enabled", "config", "secrets"}


async def source_store(request: Request) -> DataSourceStore:
    """The store, connected (and migrated) on first use."""
    state = request.app.state
    if getattr(state, "sources", None) is None:
        state.sources = await DataSourceStore.connect(state.settings)
    return state.sources


def validated(type_: str, config: Any, secrets: Any, settings: Settings) -> tuple[dict, dict[str, str]]:
    """The config as the source type and the deployment's policy accept it, and the secrets as
    strings; 422 naming the field."""
    if type_ not in TYPES:
        raise ApiError(422, f"type: one of {', '.join(TYPES)}", field="type")
    if not isinstance(config, dict):
        raise ApiError(422, "config: an object", field="config")
    if not isinstance(secrets, dict) or not all(isinstance(v, str) for v in secrets.values()):
        raise ApiError(422, "secrets: an object of strings", field="secrets")
    if type_ in PUSH_TYPES:
        return _telegraf_config(config), secrets
    try:
        cls = producer_class(type_, config)
    except ConfigError as exc:
        raise ApiError(422, str(exc), field=f"config.{str(exc).split(':', 1)[0].strip()}") from None
    unknown = set(secrets) - set(cls.secret_fields)
    if unknown:
        raise ApiError(422, f"secrets: unknown for {type_}: {', '.join(sorted(unknown))}", field="secrets")
    try:
        config = cls.validate(config)
        cls.check(config, settings)
        return config, secrets
    except ConfigError as exc:
        field = str(exc).split(":", 1)[0].strip()
        raise ApiError(422, str(exc), field=f"config.{field}") from None


def _telegraf_config(config: dict) -> dict:
    """Telegraf pushes to us: optional agent id and allowed hosts restrict who may use the token."""
    hosts = config.get("allowed_hosts", [])
    if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
        raise ApiError(422, "config.allowed_hosts: a list of host names", field="config.allowed_hosts")
    agent = config.get("agent_id", "")
    if not isinstance(agent, str):
        raise ApiError(422, "config.agent_id: a string", field="config.agent_id")
    return {**config, "allowed_hosts": hosts, "agent_id": agent}


def _body(raw: Any, required: bool) -> dict:
    if not isinstance(raw, dict):
        raise ApiError(422, "body: a JSON object", field="body")
    unknown = set(raw) - _FIELDS
    if unknown:
        raise ApiError(422, f"unknown field {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    if required:
        for key in ("name", "type"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise ApiError(422, f"{key}: a non-empty string", field=key)
    if "name" in raw and (not isinstance(raw["name"], str) or not 1 <= len(raw["name"]) <= 100):
        raise ApiError(422, "name: 1 to 100 characters", field="name")
    if "enabled" in raw and not isinstance(raw["enabled"], bool):
        raise ApiError(422, "enabled: true or false", field="enabled")
    return raw


@admin_only
async def list_sources(request: Request) -> Response:
    return JSONResponse({"items": [s.as_json() for s in await (await source_store(request)).all()]})


@admin_only
async def create_source(request: Request) -> Response:
    body = _body(await json_body(request), required=True)
    config, secrets = await asyncio.to_thread(
        validated, body["type"], body.get("config", {}), body.get("secrets", {}), request.app.state.settings)
    token = new_token() if body["type"] == "telegraf" else None
    try:
        source = await (await source_store(request)).create(
            body["name"], body["type"], config, secrets, body.get("enabled", True), token_hash(token) if token else None
        )
    except asyncpg.UniqueViolationError:
        raise ApiError(409, f"name: a source named {body['name']!r} exists", field="name") from None
    except ConfigError as exc:  # secrets without SECRETS_KEY
        raise ApiError(422, f"secrets: {exc}", field="secrets") from None
    answer: dict[str, Any] = {"source": source.as_json()}
    if token:
        answer["token"] = token  # shown this once; only its hash is stored
    return JSONResponse(answer, status_code=201)


@admin_only
async def get_source(request: Request) -> Response:
    source = await (await source_store(request)).get(request.path_params["id"])
    return JSONResponse(source.as_json()) if source else _missing(request)


@admin_only
async def update_source(request: Request) -> Response:
    store = await source_store(request)
    current = await store.get(request.path_params["id"])
    if current is None:
        return _missing(request)
    body = _body(await json_body(request), required=False)
    if "type" in body and body["type"] != current.type:
        raise ApiError(422, "type: cannot change; create a new source", field="type")
    config = secrets = None
    if "config" in body or "secrets" in body:
        config, secrets = await asyncio.to_thread(
            validated, current.type, body.get("config", current.config), body.get("secrets", {}),
            request.app.state.settings)
    try:
        source = await store.update(current.id, name=body.get("name"), config=config,
                                    secrets=secrets or None, enabled=body.get("enabled"))
    except asyncpg.UniqueViolationError:
        raise ApiError(409, f"name: a source named {body['name']!r} exists", field="name") from None
    except ConfigError as exc:  # secrets without SECRETS_KEY
        raise ApiError(422, f"secrets: {exc}", field="secrets") from None
    return JSONResponse(source.as_json()) if source else _missing(request)


async def _switch(request: Request, enabled: bool) -> Response:
    source = await (await source_store(request)).update(request.path_params["id"], enabled=enabled)
    return JSONResponse(source.as_json()) if source else _missing(request)


@admin_only
async def enable_source(request: Request) -> Response:
    return await _switch(request, True)


@admin_only
async def disable_source(request: Request) -> Response:
    return await _switch(request, False)


@admin_only
async def delete_source(request: Request) -> Response:
    if not await (await source_store(request)).delete(request.path_params["id"]):
        return _missing(request)
    return Response(status_code=204)


@admin_only
async def source_status(request: Request) -> Response:
    """The producer's last published status; `state: "not running"` when no manager runs it."""
    store = await source_store(request)
    source = await store.get(request.path_params["id"])
    if source is None:
        return _missing(request)
    settings = request.app.state.settings
    raw = await request.app.state.alerts.client.get(settings.redis_key(f"source:{source.id}:status"))
    status = json.loads(raw) if raw else {"state": "not running" if source.type not in PUSH_TYPES else "push"}
    return JSONResponse({"id": source.id, "name": source.name, "enabled": source.enabled, **status})


def _missing(request: Request) -> JSONResponse:
    return error(404, f"no source {request.path_params['id']!r}")


routes = [
    Route("/sources", list_sources, methods=["GET"]),
    Route("/sources", create_source, methods=["POST"]),
    Route("/sources/{id}", get_source, methods=["GET"]),
    Route("/sources/{id}", update_source, methods=["PUT"]),
    Route("/sources/{id}", delete_source, methods=["DELETE"]),
    Route("/sources/{id}/enable", enable_source, methods=["POST"]),
    Route("/sources/{id}/disable", disable_source, methods=["POST"]),
    Route("/sources/{id}/status", source_status, methods=["GET"]),
]
