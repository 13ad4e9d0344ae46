"""`dcim_http` sources: DCIM/BMC HTTP endpoints, by `mode`: `redfish` (the default; Redfish
sensors, health and log entries, `connectors.sources.redfish`) or `json` (any JSON status page with
extraction rules, `connectors.sources.dcim_json`). Each mode's module is loaded when first used."""

from __future__ import annotations

import importlib
from typing import Any

from connectors.sources.base import Producer
from streamapp.errors import ConfigError

MODES = {"redfish": "connectors.sources.redfish", "json": "connectors.sources.dcim_json"}


def producer_for(config: dict[str, Any]) -> type[Producer]:
    mode = config.get("mode", "redfish")
    if mode not in MODES:
        raise ConfigError(f"mode: one of {', '.join(MODES)} (got {mode!r})")
    return importlib.import_module(MODES[mode]).PRODUCER
