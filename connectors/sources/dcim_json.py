"""Generic JSON DCIM endpoint (type `dcim_http`, `mode: json`): polls one JSON status page (a PDU's,
a UPS's, a sensor hub's) and applies the source's extraction rules (`streamapp.normalisers.dcim_json`).

Config: `url` (http(s)), `auth` (`none`, `basic` with `username`, `bearer`, or `header` with
`header_name`), `metrics` and `states` rules, `hostname` (the device's name on its lines; default
the URL's host) and the shared `interval_sec` (default 30), `timeout_sec`, `verify_tls`,
`ca_bundle`. Secrets: `password` (basic) or `token` (bearer, header).

Each poll writes the points as `{"schema": "dcim_json"}` payload lines (at most POINTS_PER_LINE
each) and a line per state change, `<time> <host> dcim: <subject>: <state> <value> (normal: ...)`,
then `<subject>: recovered`. The cursor holds the states in alarm, so a restart repeats none.
Redirects are not followed (credentials go to the configured origin only); a body over
MAX_BODY_BYTES is refused.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar
from urllib.parse import urlsplit

from connectors.sources.alarms import stamp, transitions
from connectors.sources.base import Batch
from connectors.sources.http import (
    HttpProducer,
    http_options,
    load_cursor,
    status_error,
    transport_errors,
    url_option,
)
from streamapp.errors import ConfigError, ExternalAPIError
from streamapp.normalisers.dcim_json import Rules, alarms, parse_rules, points

AUTH_MODES = ("none", "basic", "bearer", "header")
KNOWN = frozenset({"mode", "url", "auth", "username", "header_name", "hostname", "metrics", "states", "format",
                   "interval_sec", "timeout_sec", "verify_tls", "ca_bundle"})
MAX_BODY_BYTES = 4 << 20
POINTS_PER_LINE = 500  # a payload line stays far below the bridge's entry limit
_HEADER = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}")
_NOT_SENDABLE = frozenset({"host", "content-length", "transfer-encoding", "connection", "cookie"})


def auth_headers(config: dict[str, Any], secrets: dict[str, str]) -> tuple[dict[str, str], tuple[str, str] | None]:
    """(headers, basic credentials) for the configured auth; ConfigError naming a missing secret."""
    mode = config["auth"]
    if mode == "none":
        return {}, None
    secret = "password" if mode == "basic" else "token"
    if not secrets.get(secret):
        raise ConfigError(f"{secret}: missing secret of this dcim_http source (auth {mode})")
    if mode == "basic":
        return {}, (config["username"], secrets["password"])
    if mode == "bearer":
        return {"Authorization": f"Bearer {secrets['token']}"}, None
    return {config["header_name"]: secrets["token"]}, None


class JsonDcimProducer(HttpProducer):
    type: ClassVar[str] = "dcim_http"
    secret_fields: ClassVar[tuple[str, ...]] = ("password", "token")

    @classmethod
    def validate(cls, config: dict[str, Any]) -> dict[str, Any]:
        if unknown := set(config) - KNOWN:
            raise ConfigError(f"{sorted(unknown)[0]}: unknown for mode json (known: {', '.join(sorted(KNOWN))})")
        out = http_options(config)
        out["url"] = url_option(config, "url")
        out["auth"] = config.get("auth", "none")
        if out["auth"] not in AUTH_MODES:
            raise ConfigError(f"auth: one of {', '.join(AUTH_MODES)}")
        if out["auth"] == "basic" and not isinstance(config.get("username"), str):
            raise ConfigError("username: required with auth basic")
        if out["auth"] == "header":
            name = config.get("header_name")
            if not isinstance(name, str) or not _HEADER.fullmatch(name) or name.lower() in _NOT_SENDABLE:
                raise ConfigError("header_name: the header carrying the token, e.g. X-API-Key")
        parse_rules(config)  # validated here, so the admin API answers 422 naming the rule
        return out

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rules: Rules = parse_rules(self.config)
        self.host = str(self.config.get("hostname") or urlsplit(self.config["url"]).hostname)
        self.headers, self.basic = auth_headers(self.config, self.source.secrets)

    async def poll(self, cursor: str | None) -> Batch:
        held = load_cursor(cursor).get("alarms", {}) if cursor else {}
        doc = await self.fetch()
        now = self.clock.now()
        found = [list(p) for p in points(doc, self.rules)]
        lines = [json.dumps({"schema": "dcim_json", "host": self.host, "url": self.config["url"], "time": now,
                             "points": found[i : i + POINTS_PER_LINE]}, separators=(",", ":"))
                 for i in range(0, len(found), POINTS_PER_LINE)]
        messages, held = transitions(held, alarms(doc, self.rules))
        lines += [f"{stamp(now)} {self.host} dcim: {message}" for message in messages]
        return Batch(lines, json.dumps({"alarms": held}, sort_keys=True))

    async def fetch(self) -> Any:
        """The status page's JSON document; typed errors for statuses, transport and bad bodies."""
        url = self.config["url"]
        body = bytearray()
        async with (self.client(url, self.headers) as http, transport_errors(self.type),
                    http.stream("GET", url, auth=self.basic, headers={"Accept": "application/json"}) as response):
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    raise ExternalAPIError(self.type, response.status_code, f"body larger than {MAX_BODY_BYTES} bytes")
        if response.status_code != 200:
            raise status_error(self.type, response, bytes(body[:200]).decode("utf-8", "replace"))
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise ExternalAPIError(self.type, 200, f"not a JSON body: {str(exc)[:200]}") from None


PRODUCER = JsonDcimProducer
