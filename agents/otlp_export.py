"""OTLP export agent: `metrics` -> the exporter's latest values (`connectors.otlp`).

Always part of the worker: whether anything is sent is the `otel_export` runtime toggle's
decision (default `ENABLE_OTEL_EXPORT`), so export can be switched on and off without a restart.
"""

from __future__ import annotations

from connectors.otlp import OtlpExport
from streamapp.deps import Deps


def register(deps: Deps) -> OtlpExport:
    """Add the exporter service and the agent feeding it."""
    app, s = deps.app, deps.settings
    export = OtlpExport(s, llm=deps.llm)
    app.service(export)

    @app.agent(deps.topics.metrics, name="otlp_export")
    async def latest_values(stream):  # type: ignore[no-untyped-def]
        async for batch in stream.take(s.consumer_batch_size, within=1.0):
            export.record(batch)

    return export
