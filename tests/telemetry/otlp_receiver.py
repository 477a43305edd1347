"""A small OTLP receiver on 127.0.0.1: gRPC and HTTP/protobuf, decoding what it receives.

It speaks the collector protocol with the official generated code (`opentelemetry-proto`'s
service stubs and messages over `grpcio`, and the same messages from HTTP bodies), so a
test that reads spans, metrics and log records back from it proves the bytes mellea's
exporters put on the wire.

```python
with OtlpReceiver() as rx:                 # both protocols, ephemeral ports
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = rx.grpc_endpoint   # or rx.http_endpoint
    ...
    spans = rx.wait_for(lambda r: r.spans(), timeout=10)
```
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

T = TypeVar("T")


@dataclass
class Received:
    """Decoded export requests, with the protocol each came by."""

    traces: list[tuple[str, trace_service_pb2.ExportTraceServiceRequest]] = field(
        default_factory=list
    )
    metrics: list[tuple[str, metrics_service_pb2.ExportMetricsServiceRequest]] = field(
        default_factory=list
    )
    logs: list[tuple[str, logs_service_pb2.ExportLogsServiceRequest]] = field(default_factory=list)


class OtlpReceiver:
    """Collector endpoints for traces, metrics and logs (gRPC and HTTP)."""

    def __init__(self) -> None:
        self.received = Received()
        self._lock = threading.Lock()
        self._grpc: grpc.Server | None = None
        self._http: ThreadingHTTPServer | None = None
        self.grpc_port = 0
        self.http_port = 0

    # ----- lifecycle -----

    def __enter__(self) -> OtlpReceiver:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_Traces(self), server)
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(_Metrics(self), server)
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(_Logs(self), server)
        self.grpc_port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        self._grpc = server
        http = ThreadingHTTPServer(("127.0.0.1", 0), _http_handler(self))
        self.http_port = http.server_address[1]
        threading.Thread(target=http.serve_forever, name="otlp-http", daemon=True).start()
        self._http = http

    def stop(self) -> None:
        if self._grpc is not None:
            self._grpc.stop(grace=None)
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()

    @property
    def grpc_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.grpc_port}"

    @property
    def http_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def _add(self, kind: str, protocol: str, request: Any) -> None:
        with self._lock:
            getattr(self.received, kind).append((protocol, request))

    # ----- reading back -----

    def spans(self, protocol: str | None = None) -> list[Any]:
        """Every span received (protobuf `Span`s), with its resource's attributes."""
        with self._lock:
            requests = [r for p, r in self.received.traces if protocol in (None, p)]
        return [
            span
            for request in requests
            for resource_spans in request.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]

    def span_scopes(self) -> dict[str, str]:
        """Span name -> the instrumentation scope (tracer) it came from."""
        with self._lock:
            requests = [r for _, r in self.received.traces]
        return {
            span.name: scope_spans.scope.name
            for request in requests
            for resource_spans in request.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        }

    def service_names(self) -> set[str]:
        with self._lock:
            requests = [r for _, r in self.received.traces] + [r for _, r in self.received.metrics]
        return {
            attribute.value.string_value
            for request in requests
            for resource in [*getattr(request, "resource_spans", []),
                             *getattr(request, "resource_metrics", [])]
            for attribute in resource.resource.attributes
            if attribute.key == "service.name"
        }  # fmt: skip

    def metric_names(self) -> set[str]:
        with self._lock:
            requests = [r for _, r in self.received.metrics]
        return {
            metric.name
            for request in requests
            for resource_metrics in request.resource_metrics
            for scope_metrics in resource_metrics.scope_metrics
            for metric in scope_metrics.metrics
        }

    def metric(self, name: str) -> list[Any]:
        with self._lock:
            requests = [r for _, r in self.received.metrics]
        return [
            metric
            for request in requests
            for resource_metrics in request.resource_metrics
            for scope_metrics in resource_metrics.scope_metrics
            for metric in scope_metrics.metrics
            if metric.name == name
        ]

    def log_records(self) -> list[Any]:
        with self._lock:
            requests = [r for _, r in self.received.logs]
        return [
            record
            for request in requests
            for resource_logs in request.resource_logs
            for scope_logs in resource_logs.scope_logs
            for record in scope_logs.log_records
        ]

    def wait_for(self, probe: Callable[[OtlpReceiver], T], timeout: float = 15.0) -> T:
        """Poll `probe(self)` until it is truthy (returns it) or fail after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            value = probe(self)
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.05)


def attributes(message: Any) -> dict[str, Any]:
    """A protobuf message's `attributes` (KeyValue list) as a dict of Python values."""
    return {kv.key: _value(kv.value) for kv in message.attributes}


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in any_value.array_value.values]
    return getattr(any_value, kind) if kind else None


class _Traces(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, rx: OtlpReceiver) -> None:
        self.rx = rx

    def Export(self, request: Any, context: Any) -> Any:
        self.rx._add("traces", "grpc", request)
        return trace_service_pb2.ExportTraceServiceResponse()


class _Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
    def __init__(self, rx: OtlpReceiver) -> None:
        self.rx = rx

    def Export(self, request: Any, context: Any) -> Any:
        self.rx._add("metrics", "grpc", request)
        return metrics_service_pb2.ExportMetricsServiceResponse()


class _Logs(logs_service_pb2_grpc.LogsServiceServicer):
    def __init__(self, rx: OtlpReceiver) -> None:
        self.rx = rx

    def Export(self, request: Any, context: Any) -> Any:
        self.rx._add("logs", "grpc", request)
        return logs_service_pb2.ExportLogsServiceResponse()


_HTTP_ROUTES: dict[str, tuple[str, Any, Any]] = {
    "/v1/traces": ("traces", trace_service_pb2.ExportTraceServiceRequest,
                   trace_service_pb2.ExportTraceServiceResponse),
    "/v1/metrics": ("metrics", metrics_service_pb2.ExportMetricsServiceRequest,
                    metrics_service_pb2.ExportMetricsServiceResponse),
    "/v1/logs": ("logs", logs_service_pb2.ExportLogsServiceRequest,
                 logs_service_pb2.ExportLogsServiceResponse),
}  # fmt: skip


def _http_handler(rx: OtlpReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            route = _HTTP_ROUTES.get(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if route is None or self.headers.get("Content-Type") != "application/x-protobuf":
                self.send_response(404 if route is None else 415)
                self.end_headers()
                return
            if self.headers.get("Content-Encoding") == "gzip":
                import gzip

                body = gzip.decompress(body)
            kind, request_type, response_type = route
            rx._add(kind, "http/protobuf", request_type.FromString(body))
            reply = response_type().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests read what was received, not the access log

    return Handler
