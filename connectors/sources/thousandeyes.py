"""ThousandEyes alerts (API v7) as a source: `GET /alerts` once per configured state, paged by
`_links.next.href`. The first poll looks back `window`; later ones ask from the cursor's date.

Config: `base_url` (default `https://api.thousandeyes.com/v7`); `aid` (account group id, optional);
`states` (default `["trigger"]`; add `"clear"` for clears: the API takes one state per request and
filters triggers by start date, clears by clear date); `window` (first poll's look-back, `<n>[smhdw]`,
default `1h`); `page_size` (the `max` parameter, 1..1000, default 100); and the shared
`interval_sec`, `timeout_sec`, `verify_tls`, `ca_bundle`. Secret: `token` (a bearer token).

Cursor: `{"<state>": {"ms": <newest start/clear date read, epoch ms>, "keys": [<alert ids at it>]}}`.
Pages come in no promised order, so a poll checkpoints only after its last page.

Line: one compact JSON object per alert: `timestamp`, `component` (`thousandeyes`), `level` (the
severity for a trigger, `info` for a clear), a readable `message` (`<type> alert <state>: severity
<s>, test <link>, rule <id>, <n> violations (alert <id>)`), `alert_id`, `alert_type`, `state`, `test`.
Unknown alert types pass through; deprecated duplicate fields are ignored.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from typing import Any
from urllib.parse import urlsplit

import httpx

from connectors.sources.base import Batch
from connectors.sources.http import (
    Boundary,
    HttpProducer,
    http_options,
    iso_ms,
    json_body,
    load_cursor,
    ms_iso,
    number_option,
    resume,
    status_error,
    transport_errors,
    url_option,
)
from streamapp.errors import ConfigError, ExternalAPIError

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.thousandeyes.com/v7"
STATES = ("trigger", "clear")
_WINDOW = re.compile(r"\d+[smhdw]?")
RESET_HEADER = "X-Organization-Rate-Limit-Reset"  # epoch seconds of the next roll-over


class ThousandEyesProducer(HttpProducer):
    type = "thousandeyes"
    secret_fields = ("token",)

    @classmethod
    def validate(cls, config: dict[str, Any]) -> dict[str, Any]:
        out = http_options(config)
        out["base_url"] = url_option(config, "base_url", DEFAULT_BASE_URL)
        aid = config.get("aid")
        if aid not in (None, "") and not re.fullmatch(r"\d+", str(aid)):
            raise ConfigError(f"aid: must be a numeric account group id (got {aid!r})")
        states = config.get("states", ["trigger"])
        if not isinstance(states, list) or not states or not set(states) <= set(STATES):
            raise ConfigError(f"states: must be a non-empty list of {' and '.join(STATES)}")
        out["states"] = list(dict.fromkeys(states))
        out["window"] = str(config.get("window", "1h"))
        if not _WINDOW.fullmatch(out["window"]):
            raise ConfigError(f"window: must be <number>[s|m|h|d|w], e.g. 12h (got {out['window']!r})")
        out["page_size"] = number_option(config, "page_size", 100, 1, 1000, integer=True)
        return out

    async def poll(self, cursor: str | None) -> Batch:
        stored = load_cursor(cursor) if cursor else {}
        if not isinstance(stored, dict):
            raise ConfigError(f"cursor: the stored cursor is not an object: {str(cursor)[:80]!r}")
        lines: list[str] = []
        headers = {"Authorization": f"Bearer {self.secret('token')}", "Accept": "application/hal+json"}
        async with self.client(self.config["base_url"], headers) as http:
            for state in self.config["states"]:
                found, boundary = await self._state(http, state, Boundary.load(stored.get(state)))
                lines += found
                if boundary is not None:
                    stored[state] = boundary.dump()
        return Batch(lines, json.dumps(stored, sort_keys=True))

    async def _state(
        self, http: httpx.AsyncClient, state: str, old: Boundary | None
    ) -> tuple[list[str], Boundary | None]:
        """The lines of one state's alerts newer than ``old`` (every page), and the boundary after them."""
        params: dict[str, Any] = {"state": state, "max": self.config["page_size"]}
        if self.config.get("aid"):
            params["aid"] = str(self.config["aid"])
        if old is None:
            params["window"] = self.config["window"]
        else:
            params["startDate"] = ms_iso(old.ms, millis=False)
        new = old.copy() if old is not None else None
        lines: list[str] = []
        url: str | None = "/alerts"
        first = True
        while url:
            call = functools.partial(self._get, http, url, params if first else None)
            data = await (call() if first else resume(call, sleep=self.sleep))  # resumed, not read again
            first = False
            for alert in data.get("alerts") or []:
                ms, key = alert_ms(alert, state), str(alert.get("id"))
                if ms is None:
                    log.warning("thousandeyes %s: alert %s has no readable date; skipped", self.source.name, key)
                elif old is None or old.is_new(ms, key):
                    lines.append(render(alert, state))
                    new = new or Boundary(ms, {key})
                    new.note(ms, key)
            url = self._next(data)
        return lines, new

    async def _get(self, http: httpx.AsyncClient, url: str, params: dict[str, Any] | None) -> dict[str, Any]:
        async with transport_errors(self.type):
            response = await http.get(url, params=params)
        if response.status_code != 200:
            reset = _epoch_wait(response.headers.get(RESET_HEADER), self.clock.now())
            raise status_error(self.type, response, _detail(response), reset)
        data = json_body(self.type, response)
        return data if isinstance(data, dict) else {}

    def _next(self, data: dict[str, Any]) -> str | None:
        """The next page's absolute URL; it must stay on our base URL's host (it gets our token)."""
        href = ((data.get("_links") or {}).get("next") or {}).get("href")
        if not href:
            return None
        ours, theirs = urlsplit(self.config["base_url"]), urlsplit(href)
        if (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc):
            raise ExternalAPIError(self.type, 200, f"next page link leaves {ours.netloc}: {href[:200]}")
        return str(href)


def alert_ms(alert: dict[str, Any], state: str) -> int | None:
    """When the alert started (trigger) or cleared (clear), as the API filters them."""
    date = alert.get("endDate") if state == "clear" else None
    return iso_ms(str(date or alert.get("startDate")))


def _epoch_wait(value: str | None, now: float) -> float | None:
    try:
        return max(0.0, float(value) - now) if value is not None else None
    except ValueError:
        return None


def _detail(response: httpx.Response) -> str:
    """problem+json's `detail`/`title`, OAuth's `error_description`, or the raw text."""
    try:
        body = response.json()
        said = body.get("detail") or body.get("title")
        if body.get("error"):  # the OAuth layer's 401: {"error": "invalid_token", "error_description": ...}
            said = f"{body['error']}: {body.get('error_description', '')}"
    except (ValueError, AttributeError):
        said = None
    return str(said or response.text)[:500]


def render(alert: dict[str, Any], state: str) -> str:
    links = alert.get("_links") or {}
    test = (links.get("test") or {}).get("href", "")
    kind, severity = alert.get("alertType") or "unknown", alert.get("alertSeverity") or "unknown"
    message = (f"{kind} alert {state}: severity {severity}, test {test or '-'}, "
               f"rule {alert.get('alertRuleId', '-')}, {alert.get('violationCount', 0)} violations "
               f"(alert {alert.get('id')})")
    date = alert.get("endDate") if state == "clear" else alert.get("startDate")
    fields = {"timestamp": date or alert.get("startDate"), "component": "thousandeyes",
              "level": severity if state == "trigger" else "info", "message": message, "alert_id": alert.get("id"),
              "alert_type": kind, "state": state, "test": test}
    return json.dumps({k: v for k, v in fields.items() if v not in (None, "")}, separators=(",", ":"),
                      ensure_ascii=False)


PRODUCER = ThousandEyesProducer
