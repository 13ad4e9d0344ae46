"""Splunk as a source: one streamed export search per time window (`POST
/services/search/v2/jobs/export`, `output_mode=json`), read line by line so memory holds the lines
to emit, never the response.

Splunk promises no order (events come newest first), so a window counts only when it was read
whole: its stream ended with `lastrow` (or cleanly, before any result). A cut stream or an
ERROR/FATAL message emits nothing of that window and leaves the cursor before it. A poll reads
windows of at most `window_sec` until it reaches `now - lag_sec` or holds `max_rows` lines.

Config: `base_url` (`https://<search head>:8089`); `search` (SPL starting with a command: `search
...` or `| ...`); `auth` (`token`: `Bearer`, the default; `session`: `Splunk <key>` from
`/services/auth/login`, renewed once when refused; `basic`); `username` (session, basic);
`legacy_export` (true: the pre-9.0.1 `/services/search/jobs/export`); `lookback_sec` (first poll,
default 900); `lag_sec` (default 60); `window_sec` (default 3600); `max_rows` (per poll, default
50000); and the shared `interval_sec`, `timeout_sec`, `verify_tls`, `ca_bundle`.
Secrets: `token`, `password`.

Cursor: `{"ms": <newest _time read, epoch ms>, "keys": [<keys of the rows at it>]}`, a row's key
hashing `index`, `splunk_server`, `_cd`, `_time` and `_raw`. A window with nothing newer moves the
cursor to the window's end.

Line: the row's `_raw`; rows without one (transforming searches) as compact JSON.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from typing import Any

import httpx

from connectors.sources.base import Batch
from connectors.sources.http import (
    Boundary,
    HttpProducer,
    http_options,
    iso_ms,
    json_body,
    number_option,
    status_error,
    transport_errors,
    url_option,
)
from streamapp.errors import ConfigError, ExternalAPIError, TransientError

log = logging.getLogger(__name__)

AUTH_MODES = ("token", "session", "basic")
EXPORT_PATH = "/services/search/v2/jobs/export"
LEGACY_EXPORT_PATH = "/services/search/jobs/export"
LOGIN_PATH = "/services/auth/login"


class SplunkProducer(HttpProducer):
    type = "splunk"
    secret_fields = ("token", "password")

    @classmethod
    def validate(cls, config: dict[str, Any]) -> dict[str, Any]:
        out = http_options(config)
        out["base_url"] = url_option(config, "base_url")
        search = config.get("search")
        if not isinstance(search, str) or not search.strip().startswith(("search ", "|")):
            raise ConfigError(f"search: must start with a command, `search ...` or `| ...` (got {search!r})")
        out["search"] = search.strip()
        out["auth"] = config.get("auth", "token")
        if out["auth"] not in AUTH_MODES:
            raise ConfigError(f"auth: must be one of {', '.join(AUTH_MODES)}")
        if out["auth"] != "token" and not config.get("username"):
            raise ConfigError(f"username: needed for {out['auth']} auth")
        out["legacy_export"] = bool(config.get("legacy_export", False))
        out["lookback_sec"] = number_option(config, "lookback_sec", 900, 0, 30 * 86_400)
        out["lag_sec"] = number_option(config, "lag_sec", 60, 0, 3600)
        out["window_sec"] = number_option(config, "window_sec", 3600, 1, 7 * 86_400)
        out["max_rows"] = number_option(config, "max_rows", 50_000, 1, 10_000_000, integer=True)
        return out

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._session_key: str | None = None  # kept across polls: logging in each time is wasteful

    async def poll(self, cursor: str | None) -> Batch:
        c = self.config
        now_ms = round(self.clock.now() * 1000)
        until_ms = now_ms - round(c["lag_sec"] * 1000)
        boundary = Boundary.load(cursor) or Boundary(now_ms - round(c["lookback_sec"] * 1000))
        lines: list[str] = []
        async with self.client(c["base_url"]) as http:
            while boundary.ms < until_ms and len(lines) < c["max_rows"]:
                end = min(until_ms, boundary.ms + round(c["window_sec"] * 1000))
                try:
                    window, boundary = await self._window(http, boundary, end)
                except (TransientError, ExternalAPIError) as exc:
                    if not lines:
                        raise
                    # Keep the windows read whole; this one is read again next poll.
                    log.warning("splunk %s: stopping at %s: %s", self.source.name, boundary.ms, exc)
                    break
                lines += window
                if end == until_ms:
                    break  # caught up: one search per poll; the next starts at the newest row's time
        return Batch(lines, json.dumps(boundary.dump()))

    async def _window(self, http: httpx.AsyncClient, old: Boundary, end: int) -> tuple[list[str], Boundary]:
        """The new lines of [old.ms, end) and the boundary after them, or an error if not read whole."""
        form = {"search": self.config["search"], "earliest_time": f"{old.ms / 1000:.3f}",
                "latest_time": f"{end / 1000:.3f}", "output_mode": "json"}
        new, lines, rows, last = old.copy(), [], 0, False
        async with transport_errors(self.type):
            response = await self._export(http, form)
            try:
                async for text in response.aiter_lines():
                    obj = _decode(text)
                    if obj is None or obj.get("preview"):
                        continue
                    for row in _rows(obj):
                        rows += 1
                        ms, key = iso_ms(str(row.get("_time"))), _key(row)
                        if ms is None or old.is_new(ms, key):
                            lines.append(_line(row))
                        if ms is not None:
                            new.note(ms, key)
                    last = last or bool(obj.get("lastrow"))
            finally:
                await response.aclose()
        if rows and not last:
            raise TransientError(f"splunk: the stream ended without lastrow after {rows} rows (cut short?)")
        return lines, new if new.ms > old.ms else Boundary(end)

    async def _export(self, http: httpx.AsyncClient, form: dict[str, str]) -> httpx.Response:
        """The streaming response of a 200; a refused session key is renewed once (keys expire when idle)."""
        response = await self._send(http, form, renew=False)
        if response.status_code == 401 and self.config["auth"] == "session":
            response = await self._send(http, form, renew=True)
        if response.status_code != 200:
            raise status_error(self.type, response, _detail(response))
        return response

    async def _send(self, http: httpx.AsyncClient, form: dict[str, str], renew: bool) -> httpx.Response:
        path = LEGACY_EXPORT_PATH if self.config["legacy_export"] else EXPORT_PATH
        headers = {"Authorization": await self._authorization(http, renew)}
        response = await http.send(http.build_request("POST", path, data=form, headers=headers), stream=True)
        if response.status_code != 200:
            await response.aread()  # an error's body is small; reading it also releases the connection
        return response

    async def _authorization(self, http: httpx.AsyncClient, renew: bool) -> str:
        auth = self.config["auth"]
        if auth == "token":
            return f"Bearer {self.secret('token')}"
        if auth == "basic":
            pair = f"{self.config['username']}:{self.secret('password')}".encode()
            return "Basic " + base64.b64encode(pair).decode()
        if renew or self._session_key is None:
            form = {"username": self.config["username"], "password": self.secret("password"), "output_mode": "json"}
            response = await http.post(LOGIN_PATH, data=form)
            if response.status_code != 200:
                raise status_error(self.type, response, _detail(response))
            self._session_key = str(json_body(self.type, response).get("sessionKey") or "")
        return f"Splunk {self._session_key}"


def _decode(text: str) -> dict[str, Any] | None:
    """One line of the stream; raises on ERROR/FATAL messages, which fail the run."""
    if not text.strip():
        return None
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise ExternalAPIError("splunk", 200, f"unreadable stream line: {text[:200]!r}") from exc
    for message in obj.get("messages") or []:
        kind, said = str(message.get("type", "")).upper(), message.get("text", "")
        if kind in ("ERROR", "FATAL"):
            raise ExternalAPIError("splunk", 200, f"{kind}: {said}")
        log.log(logging.WARNING if kind == "WARN" else logging.DEBUG, "splunk says %s: %s", kind, said)
    return obj


def _rows(obj: dict[str, Any]) -> list[dict[str, Any]]:
    rows = obj.get("results") or []
    return [obj["result"], *rows] if isinstance(obj.get("result"), dict) else list(rows)


def _key(row: dict[str, Any]) -> str:
    parts = [str(row.get(name, "")) for name in ("index", "splunk_server", "_cd", "_time", "_raw")]
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=12).hexdigest()


def _line(row: dict[str, Any]) -> str:
    raw = row.get("_raw")
    if isinstance(raw, str):
        return raw
    return json.dumps(row, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _detail(response: httpx.Response) -> str:
    """Splunk's `{"messages": [{"type", "text"}]}`, joined; the raw text otherwise."""
    try:
        messages = response.json().get("messages")
        return "; ".join(f"{m.get('type')}: {m.get('text')}" for m in messages)[:500]
    except (ValueError, AttributeError, TypeError):
        return response.text[:500]


PRODUCER = SplunkProducer
