"""OpenTelemetry tracing: the `mellea.application` and `mellea.backend` tracers.

Application spans (`session`, `start_session`, `action`, `sampling`, `attempt`,
`validation`, `execute_tool {name}`, `stream`) and backend spans (`chat {model}`,
`text_completion {model}`, following the GenAI semantic conventions) are opened and
closed by the plugins in `tracing_plugins`, on the hook points; nothing in the library
calls into this module. Each span's parent is the operation that started it (see
`_spans`), also across mellea's I/O thread and concurrent thunks.

Turned on by `MELLEA_TRACES_ENABLED=true` (exporters: `MELLEA_TRACES_OTLP` with
`OTEL_EXPORTER_OTLP[_TRACES]_ENDPOINT`, `MELLEA_TRACES_CONSOLE`; prompt and response
text only with `MELLEA_TRACES_CONTENT`), or by `mellea.telemetry.setup(tracer_provider=...)`.
Every function here is cheap and safe when tracing is off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core.errors import GenerationCancelled
from ..core.hooks import current_scope
from ._attrs import REMOTE_PROVIDERS, class_name, provider_name
from ._spans import SPANS, attribute_values, set_attributes
from ._state import STATE

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from ..core.hooks import CallScope

__all__ = [
    "get_application_tracer",
    "get_backend_tracer",
    "is_content_tracing_enabled",
    "is_tracing_enabled",
    "start_backend_span",
]


def is_tracing_enabled() -> bool:
    """True when mellea records spans (`MELLEA_TRACES_ENABLED`, or `setup(...)`)."""
    return STATE.tracing


def is_content_tracing_enabled() -> bool:
    """True when prompt and response text may go on spans (`MELLEA_TRACES_CONTENT`).

    Content may include personal data; it is off unless asked for. Also turned on by
    OpenTelemetry's `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`.
    """
    return STATE.tracing and STATE.content


def get_application_tracer() -> Any:
    """The `mellea.application` tracer (None while tracing is off)."""
    return STATE.application_tracer


def get_backend_tracer() -> Any:
    """The `mellea.backend` tracer (None while tracing is off)."""
    return STATE.backend_tracer


def start_backend_span(
    operation: str,
    generation_id: str,
    *,
    model: str | None,
    provider: str | None,
    action_class_name: str | None = None,
    num_actions: int | None = None,
    has_format: bool | None = None,
    format_type: str | None = None,
    tool_calls_enabled: bool | None = None,
    streaming: bool | None = None,
    attach_context: bool = True,
) -> Span | None:
    """Open a backend span (`"{operation} {model}"`) for a request of your own.

    Its parent is the mellea operation running here (or the current OpenTelemetry span);
    `attach_context=True` also makes it the current span of this context, so work you
    start under it nests inside. End it with `span.end()` — or let mellea end it: a
    request whose hooks report `generation_id` finishes it. None while tracing is off.
    """
    tracer = STATE.backend_tracer
    if tracer is None:
        return None
    attributes = {
        "mellea.component.type": action_class_name,
        "mellea.request.num_actions": num_actions,
        "gen_ai.output.type": "json" if has_format else None,
        "mellea.request.format_type": format_type,
        "mellea.action.tool_calls": tool_calls_enabled,
        "gen_ai.request.stream": True if streaming else None,
    }
    span = open_backend_span(operation, generation_id, current_scope(), model, provider, attributes)
    if attach_context:
        from opentelemetry import context, trace

        context.attach(trace.set_span_in_context(span))
    return span


# ----- used by the tracing plugins ------------------------------------------------------


def open_span(
    key: str,
    name: str,
    parent: CallScope | None,
    attributes: Mapping[str, Any],
    *,
    start_ns: int | None = None,
) -> Span | None:
    """Open an application span for operation `key` under its nearest open ancestor."""
    tracer = STATE.application_tracer
    if tracer is None:
        return None
    return SPANS.start(tracer, key, name, parent, attributes, start_ns=start_ns)


def open_backend_span(
    operation: str,
    key: str,
    parent: CallScope | None,
    model: str | None,
    provider: str | None,
    attributes: Mapping[str, Any],
) -> Span:
    """Open a backend span named by the GenAI conventions (`"chat granite4:micro"`)."""
    from opentelemetry.trace import SpanKind

    name = f"{operation} {model}" if model else operation
    kind = SpanKind.CLIENT if provider in REMOTE_PROVIDERS else SpanKind.INTERNAL
    base = {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": provider_name(provider),
        "gen_ai.request.model": model,
    }
    return SPANS.start(
        STATE.backend_tracer, key, name, parent, {**base, **attributes},
        kind=kind, attempt_tracer=STATE.application_tracer,
    )  # fmt: skip


def finish_span(
    key: str,
    attributes: Mapping[str, Any] | None = None,
    *,
    exception: BaseException | None = None,
    end_ns: int | None = None,
) -> Span | None:
    """End operation `key`'s span, recording `exception` on it (None if it was not open)."""
    span = SPANS.pop(key)
    if span is None:
        return None
    if attributes:
        set_attributes(span, attributes)
    if exception is not None:
        record_error(span, exception)
    span.end(end_time=end_ns)
    return span


def record_error(span: Span, exception: BaseException) -> None:
    """Mark `span` failed by `exception` (a cancellation is noted, not an error)."""
    if isinstance(exception, GenerationCancelled | asyncio.CancelledError):
        span.set_attribute("mellea.cancelled", True)
        return
    from opentelemetry.trace import Status, StatusCode

    span.record_exception(exception)
    span.set_status(Status(StatusCode.ERROR, f"{class_name(exception)}: {exception}"[:500]))
    span.set_attribute("error.type", type(exception).__name__)
    status = getattr(exception, "status_code", None)
    if isinstance(status, int):
        span.set_attribute("http.response.status_code", status)


def add_event(key: str, name: str, attributes: Mapping[str, Any], ts_ns: int | None = None) -> None:
    """Add a span event to operation `key`'s open span (nothing if it is not open)."""
    span = SPANS.get(key)
    if span is not None:
        span.add_event(name, attribute_values(attributes), ts_ns)
