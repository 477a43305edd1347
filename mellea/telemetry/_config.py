"""What the environment asks of telemetry: the `MELLEA_*` switches and the `OTEL_*` settings.

Read when telemetry is set up (at `import mellea` if a switch is on, see `_setup`), never
on a hot path. Standard library only: this module is what decides whether OpenTelemetry
gets imported at all.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

__all__ = [
    "SWITCHES",
    "Signal",
    "TelemetryConfig",
    "env_flag",
    "otlp_endpoint",
    "otlp_protocol",
    "requested",
]

logger = logging.getLogger("mellea.telemetry")

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})

SWITCHES = ("MELLEA_TRACES_ENABLED", "MELLEA_METRICS_ENABLED", "MELLEA_LOGS_OTLP")
"""The variables that turn a telemetry signal on (any one of them loads `mellea.telemetry`)."""

Signal = str
"""`"traces"`, `"metrics"` or `"logs"`: the OTLP signal names the `OTEL_*` variables use."""


def env_flag(name: str, default: bool = False) -> bool:
    """`name` read as a boolean (`1/true/yes/on`, `0/false/no/off`; else `default`)."""
    raw = os.environ.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    return default


def env_tristate(name: str) -> bool | None:
    """`name` as True / False, or None when unset or not a boolean."""
    raw = os.environ.get(name, "").strip().lower()
    return True if raw in _TRUE else False if raw in _FALSE else None


def requested() -> bool:
    """True if the environment turns on any telemetry signal."""
    return any(env_flag(name) for name in SWITCHES)


def otlp_endpoint(signal: Signal) -> str | None:
    """The OTLP endpoint for `signal`: `OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT`, else the general one."""
    specific = os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT", "").strip()
    return specific or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip() or None


def otlp_protocol(signal: Signal) -> str:
    """`grpc` (the default, as the docs say) or `http/protobuf`, from the standard variables."""
    raw = (
        os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL", "").strip()
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "").strip()
        or "grpc"
    ).lower()
    if raw not in ("grpc", "http/protobuf"):
        logger.warning("OTLP protocol %r is not supported for %s; using grpc", raw, signal)
        return "grpc"
    return raw


def _export_interval_ms() -> int:
    raw = os.environ.get("OTEL_METRIC_EXPORT_INTERVAL", "").strip()
    if not raw:
        return 60_000
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        logger.warning("OTEL_METRIC_EXPORT_INTERVAL=%r is not a positive integer; using 60000", raw)
        return 60_000
    return value


@dataclass(frozen=True)
class TelemetryConfig:
    """Every telemetry setting, as the environment gives it (`TelemetryConfig.from_env()`)."""

    service_name: str = "mellea"
    traces: bool = False
    traces_otlp: bool = False
    traces_console: bool = False
    content: bool = False
    chunk_events: bool = False
    metrics: bool = False
    metrics_otlp: bool = False
    metrics_console: bool = False
    metrics_prometheus: bool = False
    export_interval_ms: int = 60_000
    logs_otlp: bool = False

    @classmethod
    def from_env(cls) -> TelemetryConfig:
        return cls(
            service_name=os.environ.get("OTEL_SERVICE_NAME", "").strip() or "mellea",
            traces=env_flag("MELLEA_TRACES_ENABLED"),
            traces_otlp=env_flag("MELLEA_TRACES_OTLP"),
            traces_console=env_flag("MELLEA_TRACES_CONSOLE"),
            # OTel's own name for the same switch is honoured too.
            content=env_flag("MELLEA_TRACES_CONTENT")
            or env_flag("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"),
            chunk_events=env_flag("MELLEA_GENERATION_CHUNK_EVENTS"),
            metrics=env_flag("MELLEA_METRICS_ENABLED"),
            metrics_otlp=env_flag("MELLEA_METRICS_OTLP"),
            metrics_console=env_flag("MELLEA_METRICS_CONSOLE"),
            metrics_prometheus=env_flag("MELLEA_METRICS_PROMETHEUS"),
            export_interval_ms=_export_interval_ms(),
            logs_otlp=env_flag("MELLEA_LOGS_OTLP"),
        )
