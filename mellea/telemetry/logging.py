"""OTLP log export: `get_otlp_log_handler()` and the handler mellea adds for `MELLEA_LOGS_OTLP`.

With `MELLEA_LOGS_OTLP=true` and an endpoint (`OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` or
`OTEL_EXPORTER_OTLP_ENDPOINT`), mellea builds an OpenTelemetry `LoggerProvider` with a
batching OTLP exporter and adds one handler to the `mellea` logger. It prints nothing and
changes no level: records reach it as the logger's level lets them (set it, or use
`mellea.core.configure_logging`). Each exported record carries the log-context fields
(`mellea.core.log_context`, `with_context`) as attributes and, while tracing is on, the
trace and span of the mellea operation it was logged in.
"""

from __future__ import annotations

import logging
from typing import Any

from ._state import STATE

__all__ = ["get_otlp_log_handler"]


def get_otlp_log_handler() -> Any:
    """A new logging handler exporting to the OTLP collector, or None when OTLP logging
    is off (`MELLEA_LOGS_OTLP`) or has no endpoint — so `if handler:` is always safe."""
    provider = STATE.logger_provider
    if provider is None:
        return None
    return make_handler(provider)


def make_handler(provider: Any) -> logging.Handler:
    """An OpenTelemetry `LoggingHandler` on `provider` that correlates with mellea's spans."""
    from opentelemetry import context as otel_context
    from opentelemetry import trace
    from opentelemetry.sdk._logs import LoggingHandler

    from ._correlation import span_here
    from .context import MelleaContextFilter

    class MelleaOtlpHandler(LoggingHandler):
        """Exports records with the span of the mellea operation they were logged in."""

        def emit(self, record: logging.LogRecord) -> None:
            span = span_here()
            if span is None or trace.get_current_span() is span:
                super().emit(record)
                return
            token = otel_context.attach(trace.set_span_in_context(span))
            try:
                super().emit(record)
            finally:
                otel_context.detach(token)

    handler = MelleaOtlpHandler(logger_provider=provider)
    handler.addFilter(MelleaContextFilter())
    return handler
