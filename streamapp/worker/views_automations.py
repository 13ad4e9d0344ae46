"""Worker web views of automations (Faust, on WEB_PORT). Admin token required (Bearer).

    GET /automations/cooldowns/?offset=0&limit=50   cooldown claims this worker owns
    GET /automations/cooldowns/{key}/               one scope's claim (routed to the worker owning the key;
                                                    the key URL-encoded, e.g. `restart%7Chost%3Dweb-01`)
    GET /automations/rules/                         the rules in force, their version, the last rejected edit

A claim is shown with `remaining_sec` (0 once its cooldown is over) from the worker's clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import faust
from faust import web

from streamapp.clock import Clock
from streamapp.settings import Settings
from streamapp.worker.views import admin_guard, page

if TYPE_CHECKING:
    from agents.automations import RulesWatcher


def claim_view(key: str, claim: dict[str, Any], now: float) -> dict[str, Any]:
    return {"key": key, **claim, "remaining_sec": round(max(0.0, claim.get("until", 0.0) - now), 3)}


def rules_view(rules: RulesWatcher) -> dict[str, Any]:
    return {
        "version": rules.book.version, "path": str(rules.path or "(shipped example)"), "loaded_at": rules.loaded_at,
        "last_error": rules.last_error,
        "rules": [
            {"id": r.id, "action": r.action.kind, "execute": r.execute, "cooldown_sec": r.cooldown_sec,
             "scope": r.scope, "line": r.line, "description": r.description}
            for r in rules.book.rules
        ],
    }


def register(app: faust.App, settings: Settings, table: faust.Table, rules: RulesWatcher, clock: Clock) -> None:
    guarded = admin_guard(settings)

    @app.page("/automations/cooldowns/")
    class Cooldowns(web.View):
        @guarded
        async def get(self, request: web.Request) -> web.Response:
            now = clock.now()
            items, nxt = page((claim_view(k, v, now) for k, v in table.items()), request)
            return self.json({"worker": str(app.conf.canonical_url), "items": items, "next_offset": nxt})

    @app.page("/automations/cooldowns/{key}/")
    class OneCooldown(web.View):
        @guarded
        @app.table_route(table=table, match_info="key")
        async def get(self, request: web.Request, key: str) -> web.Response:
            claim = table.get(key)
            if claim is None:
                return self.json({"error": f"no cooldown for {key!r}"}, status=404)
            return self.json(claim_view(key, claim, clock.now()))

    @app.page("/automations/rules/")
    class Rules(web.View):
        @guarded
        async def get(self, request: web.Request) -> web.Response:
            return self.json(rules_view(rules))
