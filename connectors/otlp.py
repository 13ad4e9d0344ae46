"""OTLP metric export: the latest value of every normalised metric series and the pipeline's own
health, as observable instruments of an OpenTelemetry MeterProvider whose PeriodicExportingMetricReader
pushes them over OTLP/HTTP protobuf (default) or OTLP/gRPC (`OTEL_EXPORTER_OTLP_PROTOCOL=grpc`).

Toggled at runtime: the service is always part of the worker, and every export asks the `otel_export`
toggle (Redis hash `toggles`, re-read each `toggle_poll_sec`; unset = `ENABLE_OTEL_EXPORT`). While
it is off nothing is sent (values are still kept, so the next export after switching on is
complete). Export runs in the reader's own thread; its failures are logged, never raised into the
pipeline.

Series are attributes + resource of each `Metric` as data-point attributes (so `host.name` of the
device stays with its values); our own resource names this service. Each worker exports the series
of the `metrics` partitions it consumes.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import httpx
from mode import Service
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.metrics import CallbackOptions, Meter, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricExportResult,
    MetricsData,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.util.re import parse_env_headers

from connectors.openai_errors import retry_after
from connectors.redis_streams import connect
from connectors.toggles import Toggles
from streamapp.records import Metric
from streamapp.settings import Settings
from streamapp.telemetry import HEALTH, HEALTH_VALUES, LatestValues

if TYPE_CHECKING:
    from connectors.llm import LLMConnector

log = logging.getLogger(__name__)

STATUS_EVERY_SEC = 5.0  # how often a worker publishes its exporter's counters
RETRYABLE = frozenset({429, 502, 503, 504})  # the OTLP/HTTP spec's retryable statuses
MAX_TRIES = 6
_INSTRUMENT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_./\-]{0,254}")


class OtlpHttpExporter(MetricExporter):
    """OTLP/HTTP protobuf, gzip, with the spec's retry rules, which the SDK's own exporter (1.36)
    lacks: it neither retries 429 nor waits what `Retry-After` asks. 429/502/503/504 and connection
    errors are retried (the server's Retry-After, else jittered exponential backoff) while the
    export's deadline allows; any other status is final (400: our data is bad, a re-send cannot help)."""

    def __init__(self, endpoint: str, *, timeout_sec: float = 10.0, headers: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.url = endpoint if endpoint.rstrip("/").endswith("/v1/metrics") else endpoint.rstrip("/") + "/v1/metrics"
        self.timeout_sec = timeout_sec
        self._client = httpx.Client(timeout=timeout_sec, headers={
            **(headers or {}), "Content-Type": "application/x-protobuf", "Content-Encoding": "gzip",
        })
        self._stopping = threading.Event()

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> MetricExportResult:
        body = gzip.compress(encode_metrics(metrics_data).SerializeToString())
        deadline = time.monotonic() + timeout_millis / 1000
        for attempt in range(1, MAX_TRIES + 1):
            request_timeout = max(0.1, min(self.timeout_sec, deadline - time.monotonic()))
            try:
                response = self._client.post(self.url, content=body, timeout=request_timeout)
            except httpx.HTTPError as exc:
                problem, wait = type(exc).__name__, None
            else:
                if response.is_success:
                    return MetricExportResult.SUCCESS
                problem, wait = f"HTTP {response.status_code}", retry_after(response.headers)
                if response.status_code not in RETRYABLE:
                    log.error("otlp: %s refused the export (%s: %s); not retried", self.url, problem,
                              response.text[:200])
                    return MetricExportResult.FAILURE
            if wait is None:
                wait = min(2.0 ** (attempt - 1), 30.0) * random.uniform(0.8, 1.2)
            if attempt == MAX_TRIES or wait > deadline - time.monotonic():
                log.warning("otlp: export to %s failed (%s, try %d); dropped", self.url, problem, attempt)
                return MetricExportResult.FAILURE
            log.warning("otlp: export to %s failed (%s); retrying in %.1fs", self.url, problem, wait)
            if self._stopping.wait(wait):
                return MetricExportResult.FAILURE
        return MetricExportResult.FAILURE

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self._stopping.set()
        self._client.close()


class Gate(MetricExporter):
    """Exports only while `enabled()`; otherwise reports success without sending anything."""

    def __init__(self, inner: MetricExporter, enabled: Callable[[], bool]) -> None:
        # The reader takes temporality and aggregation from its exporter: pass the inner one's on.
        super().__init__(inner._preferred_temporality, inner._preferred_aggregation)
        self.inner = inner
        self.enabled = enabled
        self.skipped = self.sent = self.failed = 0
        self.last_sent_at = 0.0

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> MetricExportResult:
        if not self.enabled():
            self.skipped += 1
            return MetricExportResult.SUCCESS
        try:
            result = self.inner.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
        except Exception:  # telemetry never breaks anything: a failed export is logged and dropped
            log.exception("otlp: export failed")
            result = MetricExportResult.FAILURE
        if result is MetricExportResult.SUCCESS:
            self.sent, self.last_sent_at = self.sent + 1, time.time()
        else:
            self.failed += 1
        return result

    def counts(self) -> dict[str, Any]:
        """What `GET /telemetry/export/status` shows of this exporter."""
        return {"exports": self.sent, "failures": self.failed, "skipped_while_off": self.skipped,
                "last_export_at": self.last_sent_at or None}

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self.inner.force_flush(timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self.inner.shutdown(timeout_millis=timeout_millis)


def otlp_exporter(settings: Settings, timeout_sec: float) -> MetricExporter:
    """The exporter the settings name. A backend's auth headers come from the standard
    OTEL_EXPORTER_OTLP_(METRICS_)HEADERS variable, which the SDK's gRPC exporter reads itself."""
    if settings.otel_exporter_otlp_protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

        endpoint = settings.otel_exporter_otlp_endpoint
        return OTLPMetricExporter(endpoint=endpoint, insecure=not endpoint.startswith("https://"), timeout=timeout_sec)
    headers = os.environ.get("OTEL_EXPORTER_OTLP_METRICS_HEADERS") or os.environ.get("OTEL_EXPORTER_OTLP_HEADERS") or ""
    return OtlpHttpExporter(settings.otel_exporter_otlp_endpoint, timeout_sec=timeout_sec,
                            headers=parse_env_headers(headers, liberal=True))


class OtlpExport(Service):
    """Keeps the latest metric values (`record`) and exports them, with the health metrics, while the
    `otel_export` toggle is on."""

    def __init__(
        self,
        settings: Settings,
        *,
        llm: LLMConnector | None = None,
        exporter: MetricExporter | None = None,
        interval_sec: float | None = None,
        timeout_sec: float = 10.0,
        toggle_poll_sec: float = 1.0,
        latest: LatestValues | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.llm = llm
        self.latest = latest or LatestValues()
        self.enabled = False
        self.interval_sec, self.timeout_sec, self.toggle_poll_sec = interval_sec, timeout_sec, toggle_poll_sec
        self._exporter = exporter
        self.gate: Gate | None = None
        self.provider: MeterProvider | None = None
        self._meter: Meter | None = None
        self._toggles: Toggles | None = None

    async def on_start(self) -> None:
        self._toggles = Toggles(connect(self.settings), self.settings, cache_sec=self.toggle_poll_sec)
        self.enabled = await self._toggles.enabled("otel_export")
        self.gate = Gate(self._exporter or otlp_exporter(self.settings, self.timeout_sec), lambda: self.enabled)
        # None: OTEL_METRIC_EXPORT_INTERVAL / OTEL_METRIC_EXPORT_TIMEOUT, else the SDK's 60 s / 30 s.
        interval = None if self.interval_sec is None else self.interval_sec * 1000
        reader = PeriodicExportingMetricReader(self.gate, export_interval_millis=interval)
        resource = Resource.create({"service.name": self.settings.otel_service_name,
                                    "service.instance.id": self.settings.bridge_consumer})
        self.provider = MeterProvider(resource=resource, metric_readers=[reader])
        self._meter = self.provider.get_meter("streamapp")
        for name, (kind, unit, description) in HEALTH.items():
            self._instrument(name, kind, unit, description, self._health_callback(name))
        for name, metric_kind in list(self.latest.kinds.items()):
            self._instrument(name, metric_kind.type, metric_kind.unit, "", self._latest_callback(name))
        log.info("otlp: export to %s (%s) is %s", self.settings.otel_exporter_otlp_endpoint,
                 self.settings.otel_exporter_otlp_protocol, "on" if self.enabled else "off")

    async def on_stop(self) -> None:
        if self.provider is not None:  # the final export runs in a thread: the loop keeps serving
            await asyncio.to_thread(self.provider.shutdown, timeout_millis=self.timeout_sec * 1000)
        if self._toggles is not None:
            await self._toggles.client.aclose()

    @Service.task
    async def _follow_toggle(self) -> None:
        assert self._toggles is not None
        published = 0.0
        while not self.should_stop:
            await self.sleep(self.toggle_poll_sec)
            try:  # Redis errors keep the last value (Toggles); nothing here may stop the worker
                enabled = await self._toggles.enabled("otel_export")
                if time.monotonic() - published >= STATUS_EVERY_SEC:
                    await self._publish(enabled)
                    published = time.monotonic()
            except Exception:
                log.exception("otlp: toggle not read or status not published")
                continue
            if enabled != self.enabled:
                log.info("otlp: export switched %s", "on" if enabled else "off")
                self.enabled = enabled

    async def _publish(self, enabled: bool) -> None:
        """This worker's exporter counters for the API (`telemetry:export:<worker>`, with a TTL)."""
        assert self._toggles is not None and self.gate is not None
        status = {"worker": self.settings.bridge_consumer, "exporting": enabled, **self.gate.counts()}
        await self._toggles.client.set(self.settings.redis_key(f"telemetry:export:{self.settings.bridge_consumer}"),
                                       json.dumps(status), px=int(STATUS_EVERY_SEC * 3000))

    def record(self, metrics: Iterable[Metric]) -> None:
        """Take normalised metrics in (the `metrics` agent calls this); never raises."""
        try:
            for name in self.latest.update(metrics):
                kind = self.latest.kinds[name]
                if self._meter is not None:
                    self._instrument(name, kind.type, kind.unit, "", self._latest_callback(name))
        except Exception:
            log.exception("otlp: metrics not recorded")

    def flush(self) -> bool:
        """Collect and export now (blocking: for tests and tools)."""
        return self.provider is not None and self.provider.force_flush(timeout_millis=self.timeout_sec * 3000)

    def _instrument(self, name: str, kind: str, unit: str, description: str, callback: Callable) -> None:
        if not _INSTRUMENT_NAME.fullmatch(name):
            log.warning("otlp: %r is not a valid instrument name; not exported", name[:100])
            return
        assert self._meter is not None
        create = {"counter": self._meter.create_observable_counter,
                  "updowncounter": self._meter.create_observable_up_down_counter}.get(
            kind, self._meter.create_observable_gauge)
        create(name, callbacks=[callback], unit=unit[:63], description=description)

    def _latest_callback(self, name: str) -> Callable[[CallbackOptions], list[Observation]]:
        return lambda _options: [Observation(value, attrs) for value, attrs in self.latest.observe(name)]

    def _health_callback(self, name: str) -> Callable[[CallbackOptions], list[Observation]]:
        def observe(_options: CallbackOptions) -> list[Observation]:
            values = HEALTH_VALUES.read(name)
            totals = self.llm.totals if self.llm is not None else None
            if totals is not None and name == "streamapp.llm.calls":
                values.append((totals.calls, {}))
            elif totals is not None and name == "streamapp.llm.tokens":
                values += [(totals.prompt_tokens, {"gen_ai.token.type": "input"}),
                           (totals.completion_tokens, {"gen_ai.token.type": "output"})]
            return [Observation(value, attrs) for value, attrs in values]

        return observe
