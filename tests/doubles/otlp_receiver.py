"""An OTLP/HTTP metrics receiver on a loopback port, in a thread: `POST /v1/metrics` with a protobuf
`ExportMetricsServiceRequest` (gzip or not), decoded with opentelemetry-proto and recorded.

Scenario switch: `script` holds the answers to give next, in order (status, headers), e.g.
`[(503, {"Retry-After": "1"})]`; when it is empty every request gets 200 and an empty
`ExportMetricsServiceResponse`. Error answers carry a `google.rpc.Status` body as the spec asks.
An answer naming a `Retry-After` holds, as a throttling server does: a request coming back before
that wait is over gets the same answer again (and is recorded), whatever the script says.
"""

from __future__ import annotations

import gzip
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf.message import DecodeError
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue


@dataclass
class Received:
    status: int
    headers: dict[str, str]
    request: ExportMetricsServiceRequest | None


@dataclass(frozen=True)
class Point:
    name: str
    unit: str
    kind: str  # gauge | sum
    monotonic: bool
    value: float
    attributes: dict[str, Any]
    resource: dict[str, Any] = field(default_factory=dict)


class OtlpReceiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script: list[tuple[int, dict[str, str]]] = []
        self._held: tuple[float, int, dict[str, str]] | None = None  # until (monotonic), status, headers
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._handle(self)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handle(self, http: BaseHTTPRequestHandler) -> None:
        body = http.rfile.read(int(http.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in http.headers.items()}
        request: ExportMetricsServiceRequest | None = None
        with self._lock:
            status, extra = self._next_answer(time.monotonic())
        if http.path != "/v1/metrics":
            status = 404
        else:
            try:
                data = gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body
                request = ExportMetricsServiceRequest.FromString(data)
            except (OSError, EOFError, DecodeError):
                status = 400
        answer = (ExportMetricsServiceResponse() if status == 200
                  else Status(code=3 if status == 400 else 14, message=f"scripted {status}")).SerializeToString()
        with self._lock:
            self.received.append(Received(status, headers, request))
        http.send_response(status)
        for name, value in {"Content-Type": "application/x-protobuf", **extra}.items():
            http.send_header(name, value)
        http.send_header("Content-Length", str(len(answer)))
        http.end_headers()
        http.wfile.write(answer)

    def _next_answer(self, now: float) -> tuple[int, dict[str, str]]:
        """The held answer while its Retry-After runs, else the next scripted one (else 200)."""
        if self._held is not None and now < self._held[0]:
            return self._held[1], self._held[2]
        status, extra = self.script.pop(0) if self.script else (200, {})
        wait = extra.get("Retry-After")
        self._held = (now + float(wait), status, extra) if wait is not None else None
        return status, extra

    def accepted(self) -> list[ExportMetricsServiceRequest]:
        with self._lock:
            return [r.request for r in self.received if r.status == 200 and r.request is not None]

    def points(self) -> list[Point]:
        """Every data point of every accepted request, in order."""
        out = []
        for request in self.accepted():
            for rm in request.resource_metrics:
                resource = _attributes(rm.resource.attributes)
                for sm in rm.scope_metrics:
                    for m in sm.metrics:
                        kind = m.WhichOneof("data")
                        data = getattr(m, kind)
                        for p in data.data_points:
                            value = p.as_double if p.WhichOneof("value") == "as_double" else p.as_int
                            out.append(Point(m.name, m.unit, kind, kind == "sum" and data.is_monotonic, value,
                                             _attributes(p.attributes), resource))
        return out


def _attributes(kvs: Any) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in kvs}


def _value(v: AnyValue) -> Any:
    kind = v.WhichOneof("value")
    return getattr(v, kind) if kind in ("string_value", "bool_value", "int_value", "double_value") else str(v)
