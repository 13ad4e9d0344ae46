"""OTLP export agent: `metrics` -> the exporter's latest values (`connectors.otlp`).

Always part of the worker: whether anything is sent is the `otel_export` runtime toggle's
decision (default `ENABLE_OTEL_EXPORT`), so export can be switched on and off without a restart.
"""

from __future__ import annotations

from faust.types import EventT

from agents.guard import guarded_batches
from connectors.otlp import OtlpExport
from streamapp.worker.deps import Deps


def register(deps: Deps) -> OtlpExport:
    """Add the exporter service and the agent feeding it."""
    app, s = deps.app, deps.settings
    export = OtlpExport(s, llm=deps.llm)
    app.service(export)

    async def latest_values(events: list[EventT]) -> None:
        export.record([e.value for e in events])

    guarded_batches(deps, deps.topics.metrics, "otlp_export", latest_values, size=s.consumer_batch_size,
                    within=1.0, retry_alone=True)  # latest values: recording one twice changes nothing
    return export
