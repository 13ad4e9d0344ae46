"""Source type -> producer class. Each producer module exports `PRODUCER` (or, when the class
depends on the config, `producer_for(config)`); modules are imported on first use, so a worker
only loads the client libraries of the sources it runs."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from connectors.sources.base import Producer
from streamapp.errors import ConfigError

MODULES = {
    "filetail": "connectors.sources.filetail",
    "datadog": "connectors.sources.datadog",
    "splunk": "connectors.sources.splunk",
    "thousandeyes": "connectors.sources.thousandeyes",
    "snmp": "connectors.sources.snmp",
    "dcim_http": "connectors.sources.dcim",
}


# Sources that push to us (the Telegraf endpoint) have a row and a token but no producer.
PUSH_TYPES = frozenset({"telegraf"})


def producer_class(source_type: str, config: Mapping[str, Any] | None = None) -> type[Producer]:
    if source_type not in MODULES:
        raise ConfigError(f"type: unknown source type {source_type!r} (known: {', '.join(sorted(MODULES))})")
    module = importlib.import_module(MODULES[source_type])
    if hasattr(module, "producer_for"):
        return module.producer_for(dict(config or {}))
    return module.PRODUCER
