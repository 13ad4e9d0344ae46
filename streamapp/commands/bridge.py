"""`streamapp bridge in|out|both`: run the Redis<->Kafka stream bridges as their own process
(the worker runs them too unless ENABLE_BRIDGE=false)."""

from __future__ import annotations

import argparse

import mode

from connectors.bridge_in import InboundBridge
from connectors.bridge_out import OutboundBridge
from streamapp.settings import get_settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bridge", help="run the Redis<->Kafka stream bridges without a worker")
    p.add_argument("direction", choices=["in", "out", "both"], nargs="?", default="both")
    p.add_argument("-l", "--loglevel", default="info")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    services: list[mode.Service] = []
    if args.direction in ("in", "both"):
        services.append(InboundBridge(settings))
    if args.direction in ("out", "both"):
        services.append(OutboundBridge(settings))
    mode.Worker(*services, loglevel=args.loglevel).execute_from_commandline()
    return 0
