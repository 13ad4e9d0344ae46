"""`streamapp api`: serve the Starlette API with uvicorn on API_HOST:API_PORT."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from streamapp.api.app import create_api
from streamapp.settings import get_settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("api", help="serve the HTTP API (health, alerts, sources, telemetry)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    s = get_settings()
    # Our own loggers (request log, stores) at INFO beside uvicorn's, one line each.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_api(s), host=s.api_host, port=s.api_port, log_level="info", access_log=False)
    return 0
