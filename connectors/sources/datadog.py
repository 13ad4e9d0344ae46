"""Datadog Logs as a source: `POST /api/v2/logs/events/search`, oldest first, over a window that
moves from the cursor to `now - lag_sec` (Datadog indexes with a delay), paged by `meta.page.after`.

Config: `site` (default `datadoghq.com`) or `base_url` (wins); `query` (default `*`); `indexes`
(default `["*"]`); `storage_tier` (`indexes` | `online-archives` | `flex`); `page_limit` (1..1000,
default 1000); `max_pages` per poll (default 20; the rest waits for the next poll); `lookback_sec`
(how far back the first poll reads, default 900); `lag_sec` (default 30); and the shared
`interval_sec`, `timeout_sec`, `verify_tls`, `ca_bundle`. Secrets: `api_key`, `app_key`.

Cursor: `{"ms": <newest event timestamp read, epoch ms>, "keys": [<event ids at it>]}`; because
pages come oldest first, a poll that stops early (page budget, a failed page) still checkpoints.
When a complete read finds nothing newer, the cursor moves to the window's end.

Line: one compact JSON object per event with `timestamp`, `host`, `service`, `level` (Datadog's
status), `message` and `id`, so the `json` line format fills host, component and level. An event
without a message (structured only) carries its attributes, as compact JSON, in `message`.
"""

from __future__ import annotations

import functools
import json
import logging
from typing import Any

import httpx

from connectors.sources.base import Batch
from connectors.sources.http import (
    Boundary,
    HttpProducer,
    header_number,
    http_options,
    iso_ms,
    json_body,
    ms_iso,
    number_option,
    resume,
    status_error,
    transport_errors,
    url_option,
)
from streamapp.errors import ConfigError

log = logging.getLogger(__name__)

SITES = frozenset({
    "datadoghq.com", "us3.datadoghq.com", "us5.datadoghq.com", "datadoghq.eu", "ap1.datadoghq.com",
    "ap2.datadoghq.com", "uk1.datadoghq.com", "ddog-gov.com", "us2.ddog-gov.com",
})
STORAGE_TIERS = frozenset({"indexes", "online-archives", "flex"})
SEARCH_PATH = "/api/v2/logs/events/search"


class DatadogProducer(HttpProducer):
    type = "datadog"
    secret_fields = ("api_key", "app_key")

    @classmethod
    def validate(cls, config: dict[str, Any]) -> dict[str, Any]:
        out = http_options(config)
        if config.get("base_url"):
            out["base_url"] = url_option(config, "base_url")
        elif out.setdefault("site", "datadoghq.com") not in SITES:
            raise ConfigError(f"site: must be one of {', '.join(sorted(SITES))} (or set base_url)")
        out["query"] = config.get("query", "*")
        if not isinstance(out["query"], str) or not out["query"].strip():
            raise ConfigError("query: must be a non-empty Datadog search query (e.g. `service:web`)")
        out["indexes"] = config.get("indexes", ["*"])
        if not isinstance(out["indexes"], list) or not all(isinstance(i, str) and i for i in out["indexes"]):
            raise ConfigError("indexes: must be a list of index names")
        if config.get("storage_tier") not in (None, *STORAGE_TIERS):
            raise ConfigError(f"storage_tier: must be one of {', '.join(sorted(STORAGE_TIERS))}")
        out["page_limit"] = number_option(config, "page_limit", 1000, 1, 1000, integer=True)
        out["max_pages"] = number_option(config, "max_pages", 20, 1, 1000, integer=True)
        out["lookback_sec"] = number_option(config, "lookback_sec", 900, 0, 30 * 86_400)
        out["lag_sec"] = number_option(config, "lag_sec", 30, 0, 3600)
        return out

    @property
    def base_url(self) -> str:
        return self.config.get("base_url") or f"https://api.{self.config['site']}"

    async def poll(self, cursor: str | None) -> Batch:
        c = self.config
        now_ms = round(self.clock.now() * 1000)
        old = Boundary.load(cursor) or Boundary(now_ms - round(c["lookback_sec"] * 1000))
        to_ms = now_ms - round(c["lag_sec"] * 1000)
        if to_ms <= old.ms:
            return Batch([], None)
        query = {"query": c["query"], "from": ms_iso(old.ms), "to": ms_iso(to_ms), "indexes": c["indexes"]}
        if c.get("storage_tier"):
            query["storage_tier"] = c["storage_tier"]
        new, lines, after, complete = old.copy(), [], None, False
        headers = {"DD-API-KEY": self.secret("api_key"), "DD-APPLICATION-KEY": self.secret("app_key")}
        async with self.client(self.base_url, headers) as http:
            for page in range(c["max_pages"]):
                page_spec = {"limit": c["page_limit"], **({"cursor": after} if after else {})}
                body = {"filter": query, "sort": "timestamp", "page": page_spec}
                call = functools.partial(self._search, http, body)
                # A failed first page is the poll loop's to report and back off; later pages are resumed.
                data = await (resume(call, sleep=self.sleep) if page else call())
                for event in data.get("data") or []:
                    ms, key = iso_ms(str((event.get("attributes") or {}).get("timestamp"))), str(event.get("id"))
                    if ms is not None and old.is_new(ms, key):
                        lines.append(render(event))
                        new.note(ms, key)
                meta = data.get("meta") or {}
                if meta.get("status") == "timeout" or meta.get("warnings"):
                    log.warning("datadog %s: results may be partial (status %s, warnings %s)",
                                self.source.name, meta.get("status"), meta.get("warnings"))
                after = (meta.get("page") or {}).get("after")
                complete = not after and meta.get("status") != "timeout"
                if not after:
                    break
        if complete and new.ms == old.ms:
            new = Boundary(to_ms)  # nothing newer in the whole window: start the next one at its end
        return Batch(lines, json.dumps(new.dump()))

    async def _search(self, http: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
        async with transport_errors(self.type):
            response = await http.post(SEARCH_PATH, json=body)
        if response.status_code != 200:
            reset = header_number(response.headers, "X-RateLimit-Reset")  # seconds until the bucket refills
            raise status_error(self.type, response, _detail(response), reset)
        data = json_body(self.type, response)
        return data if isinstance(data, dict) else {}


def _detail(response: httpx.Response) -> str:
    """Datadog's `{"errors": [...]}`, joined; the raw text when the body is something else."""
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        errors = None
    if isinstance(errors, list) and errors:
        return "; ".join(str(e) for e in errors)[:500]
    return response.text[:500]


def render(event: dict[str, Any]) -> str:
    a = event.get("attributes") or {}
    message = a.get("message") or json.dumps(a.get("attributes") or {}, separators=(",", ":"), sort_keys=True)
    fields = {"timestamp": a.get("timestamp"), "host": a.get("host"), "service": a.get("service"),
              "level": a.get("status"), "message": message, "id": event.get("id")}
    return json.dumps({k: v for k, v in fields.items() if v not in (None, "")}, separators=(",", ":"),
                      ensure_ascii=False)


PRODUCER = DatadogProducer
