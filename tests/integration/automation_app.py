"""The real app for worker-process automation tests. The automation settings not yet declared in
`Settings` (see `streamapp.automations.config`) are read here from the environment under their
future names and set on the settings, as the settings object will do once they are declared."""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path

from pydantic import SecretStr

from streamapp.application import create_app
from streamapp.automations.config import AutomationConfig
from streamapp.settings import get_settings

_settings = get_settings()
_types = {f.name: f.type for f in fields(AutomationConfig)}
_pending = {
    name: os.environ[name.upper()] for name in _types if not hasattr(_settings, name) and name.upper() in os.environ
}
_cast = {"SecretStr": SecretStr, "Path | None": Path, "float": float, "int": int}
app = create_app(_settings.model_copy(update={k: _cast.get(str(_types[k]), str)(v) for k, v in _pending.items()}))
