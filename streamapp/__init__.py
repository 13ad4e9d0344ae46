"""Streaming log analyzer. `faust -A streamapp worker` reads `streamapp.app`, built on first use
so that importing the domain modules (parsing, mining, ...) does not build a Faust app."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "app":
        from streamapp.errors import ConfigError
        from streamapp.worker.app import create_app

        try:
            app = create_app()
        except ConfigError as exc:  # fail fast with the variable's name, not a traceback
            raise SystemExit(f"streamapp: {exc}") from None
        globals()["app"] = app
        return app
    raise AttributeError(name)
