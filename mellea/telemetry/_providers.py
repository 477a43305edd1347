"""OpenTelemetry providers and exporters built from a `TelemetryConfig`.

Imported only when a signal is on. Exporters come from the official packages of the
`telemetry` extra: OTLP over gRPC (the default the docs name) or HTTP/protobuf
(`OTEL_EXPORTER_OTLP[_<SIGNAL>]_PROTOCOL=http/protobuf`), the console exporters, and the
Prometheus reader. A provider mellea builds becomes the process's global one unless the
application installed its own first (mellea shuts it down at exit, after ending the spans
still open); with no exporter asked for, mellea records into the
global provider (the application's, or OpenTelemetry's no-op one until it sets one).
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

from ._config import Signal, TelemetryConfig, otlp_endpoint, otlp_protocol

__all__ = ["build_logger_provider", "build_meter_provider", "build_tracer_provider"]

logger = logging.getLogger("mellea.telemetry")

_INSTALL_HINT = 'install it with: pip install "mellea[telemetry]"'

# (signal, protocol) -> (module, class) of the official OTLP exporter.
_OTLP_EXPORTERS = {
    ("traces", "grpc"): ("opentelemetry.exporter.otlp.proto.grpc.trace_exporter", "OTLPSpanExporter"),
    ("metrics", "grpc"): ("opentelemetry.exporter.otlp.proto.grpc.metric_exporter", "OTLPMetricExporter"),
    ("logs", "grpc"): ("opentelemetry.exporter.otlp.proto.grpc._log_exporter", "OTLPLogExporter"),
    ("traces", "http/protobuf"): ("opentelemetry.exporter.otlp.proto.http.trace_exporter", "OTLPSpanExporter"),
    ("metrics", "http/protobuf"): ("opentelemetry.exporter.otlp.proto.http.metric_exporter", "OTLPMetricExporter"),
    ("logs", "http/protobuf"): ("opentelemetry.exporter.otlp.proto.http._log_exporter", "OTLPLogExporter"),
}  # fmt: skip
_HTTP_PATHS = {"traces": "/v1/traces", "metrics": "/v1/metrics", "logs": "/v1/logs"}


def _warn(message: str) -> None:
    # A configuration mistake the user should see once, as the docs describe.
    warnings.warn(message, UserWarning, stacklevel=4)


def _resource(config: TelemetryConfig) -> Any:
    from opentelemetry.sdk.resources import Resource

    # Resource.create also merges OTEL_RESOURCE_ATTRIBUTES.
    return Resource.create({"service.name": config.service_name})


def otlp_exporter(signal: Signal, switch: str) -> Any | None:
    """The OTLP exporter for `signal`, or None (with a warning) when it cannot be made."""
    endpoint = otlp_endpoint(signal)
    if endpoint is None:
        _warn(
            f"{switch}=true but no OTLP endpoint is configured: set "
            f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT "
            f"to export {signal}"
        )
        return None
    protocol = otlp_protocol(signal)
    module_name, class_name = _OTLP_EXPORTERS[(signal, protocol)]
    if protocol == "http/protobuf" and not otlp_endpoint_is_specific(signal):
        # The general endpoint is a base URL; each signal has its own path under it.
        endpoint = endpoint.rstrip("/") + _HTTP_PATHS[signal]
    try:
        import importlib

        exporter_class = getattr(importlib.import_module(module_name), class_name)
        return exporter_class(endpoint=endpoint)
    except ImportError as exc:
        _warn(
            f"the OTLP {protocol} exporter for {signal} is not installed ({exc}); {_INSTALL_HINT}"
        )
    except Exception as exc:  # a malformed endpoint, say: telemetry must not break the app
        _warn(f"could not create the OTLP {signal} exporter for {endpoint!r}: {exc}")
    return None


def otlp_endpoint_is_specific(signal: Signal) -> bool:
    import os

    return bool(os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT", "").strip())


def build_tracer_provider(config: TelemetryConfig) -> Any | None:
    """An SDK `TracerProvider` with the exporters `config` asks for (None: none asked for)."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    exporters: list[Any] = []
    if config.traces_otlp:
        exporter = otlp_exporter("traces", "MELLEA_TRACES_OTLP")
        if exporter is not None:
            exporters.append(exporter)
    if config.traces_console:
        exporters.append(ConsoleSpanExporter())
    if not exporters:
        return None
    provider = TracerProvider(resource=_resource(config), shutdown_on_exit=False)
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def build_meter_provider(config: TelemetryConfig) -> Any | None:
    """An SDK `MeterProvider` with the readers `config` asks for (None, and a warning: none)."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import (
        ConsoleMetricExporter,
        PeriodicExportingMetricReader,
    )

    readers: list[Any] = []
    interval = config.export_interval_ms
    if config.metrics_prometheus:
        try:
            from opentelemetry.exporter.prometheus import PrometheusMetricReader

            # Registers with prometheus_client's default registry; the application
            # serves it (start_http_server, or its web framework's /metrics route).
            readers.append(PrometheusMetricReader())
        except ImportError as exc:
            _warn(
                f"MELLEA_METRICS_PROMETHEUS=true but the exporter is missing ({exc}); {_INSTALL_HINT}"
            )
        except Exception as exc:
            _warn(f"could not create the Prometheus metric reader: {exc}")
    if config.metrics_otlp:
        exporter = otlp_exporter("metrics", "MELLEA_METRICS_OTLP")
        if exporter is not None:
            readers.append(PeriodicExportingMetricReader(exporter, export_interval_millis=interval))
    if config.metrics_console:
        readers.append(
            PeriodicExportingMetricReader(ConsoleMetricExporter(), export_interval_millis=interval)
        )
    if not readers:
        _warn(
            "Metrics are enabled (MELLEA_METRICS_ENABLED=true) but no exporters are "
            "configured: set MELLEA_METRICS_CONSOLE, MELLEA_METRICS_OTLP (with an endpoint) "
            "or MELLEA_METRICS_PROMETHEUS. Metrics go to the global meter provider."
        )
        return None
    return MeterProvider(resource=_resource(config), metric_readers=readers, shutdown_on_exit=False)


def build_logger_provider(config: TelemetryConfig) -> Any | None:
    """An SDK `LoggerProvider` exporting over OTLP (None, and a warning, without an endpoint)."""
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

    exporter = otlp_exporter("logs", "MELLEA_LOGS_OTLP")
    if exporter is None:
        return None
    provider = LoggerProvider(resource=_resource(config), shutdown_on_exit=False)
    provider.add_log_record_processor(BatchLogRecordProcessor(exporter))
    return provider
