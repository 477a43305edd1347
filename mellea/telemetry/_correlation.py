"""Which span a log record belongs to: the current OpenTelemetry span, else the span of
the mellea operation running here (found through its `CallScope`)."""

from __future__ import annotations

import sys
from typing import Any

from ..core.hooks import current_scope
from ._spans import SPANS
from ._state import STATE

__all__ = ["span_context_here", "span_here"]


def span_here() -> Any:
    """The span of the code running here, or None (always None while tracing is off)."""
    if not STATE.tracing:
        return None
    trace = sys.modules.get("opentelemetry.trace")
    if trace is not None:
        current = trace.get_current_span()
        if current.get_span_context().is_valid:
            return current
    return SPANS.innermost(current_scope())


def span_context_here() -> tuple[str, str] | None:
    """`(trace_id, span_id)` in hex of `span_here()`, or None."""
    span = span_here()
    if span is None:
        return None
    context = span.get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")
