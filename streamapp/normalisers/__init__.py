"""Metric normalisers per payload schema (SNMP, Redfish/DCIM, Telegraf, ...): each submodule
registers its functions with `streamapp.metrics.normaliser`; importing this package loads them all."""

from __future__ import annotations

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
