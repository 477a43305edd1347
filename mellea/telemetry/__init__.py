"""OpenTelemetry for mellea: traces, metrics and log export, built as plugins on the hooks.

`pip install "mellea[telemetry]"` and switch signals on by environment (all off by
default; nothing of OpenTelemetry is imported while they are):

| variable | effect |
|---|---|
| `MELLEA_TRACES_ENABLED` | spans for sessions, calls, sampling loops and attempts, validations, tool calls, model requests |
| `MELLEA_TRACES_OTLP` / `MELLEA_TRACES_CONSOLE` | export spans over OTLP / print them |
| `MELLEA_TRACES_CONTENT` | prompt and response text on spans (may hold personal data) |
| `MELLEA_GENERATION_CHUNK_EVENTS` | a span event per streamed chunk, and time-per-chunk |
| `MELLEA_METRICS_ENABLED` | tokens, durations, time to first chunk, requests, errors, cost, sampling, requirements, tool calls |
| `MELLEA_METRICS_OTLP` / `_CONSOLE` / `_PROMETHEUS` | metric exporters (any together) |
| `MELLEA_LOGS_OTLP` | the `mellea` logger's records exported over OTLP |
| `MELLEA_PRICING_FILE`, `MELLEA_PRICING_ENABLED` | token prices for the cost metric (see `pricing`) |
| `OTEL_SERVICE_NAME`, `OTEL_EXPORTER_OTLP[_TRACES/_METRICS/_LOGS]_ENDPOINT`, `OTEL_EXPORTER_OTLP[_<SIGNAL>]_PROTOCOL` (`grpc` default, `http/protobuf`), `OTEL_METRIC_EXPORT_INTERVAL` | the standard OpenTelemetry settings |

Or from code: `mellea.telemetry.setup(tracer_provider=..., meter_provider=...)` sends
mellea's spans and metrics into providers you built; `shutdown()` turns it off again.
Without the extra every function here is a silent no-op.

While tracing is on, the span of the operation mellea runs your code for (a tool, a
validation function, a strategy) is the current OpenTelemetry span there, and every
request to a model server carries its span's W3C trace context (`_propagation`).
"""

from __future__ import annotations

from ._config import TelemetryConfig
from ._setup import setup, shutdown
from .context import (
    MelleaContextFilter,
    async_with_context,
    generate_request_id,
    get_current_context,
    get_model_id,
    get_request_id,
    get_sampling_iteration,
    get_session_id,
    with_context,
)
from .logging import get_otlp_log_handler
from .metrics import (
    create_counter,
    create_histogram,
    create_up_down_counter,
    is_metrics_enabled,
    record_adapter_function_invocation,
    record_adapter_function_parse_failure,
    record_adapter_function_phase_duration,
    record_cost,
    record_error,
    record_request_duration,
    record_requirement_check,
    record_requirement_failure,
    record_sampling_attempt,
    record_sampling_outcome,
    record_time_per_output_chunk,
    record_token_usage_metrics,
    record_tool_call,
    record_ttfb,
)
from .pricing import is_pricing_enabled
from .tracing import is_content_tracing_enabled, is_tracing_enabled

__all__ = [
    "MelleaContextFilter",
    "TelemetryConfig",
    "async_with_context",
    "create_counter",
    "create_histogram",
    "create_up_down_counter",
    "generate_request_id",
    "get_current_context",
    "get_model_id",
    "get_otlp_log_handler",
    "get_request_id",
    "get_sampling_iteration",
    "get_session_id",
    "is_content_tracing_enabled",
    "is_metrics_enabled",
    "is_pricing_enabled",
    "is_tracing_enabled",
    "record_adapter_function_invocation",
    "record_adapter_function_parse_failure",
    "record_adapter_function_phase_duration",
    "record_cost",
    "record_error",
    "record_request_duration",
    "record_requirement_check",
    "record_requirement_failure",
    "record_sampling_attempt",
    "record_sampling_outcome",
    "record_time_per_output_chunk",
    "record_token_usage_metrics",
    "record_tool_call",
    "record_ttfb",
    "setup",
    "shutdown",
    "with_context",
]
