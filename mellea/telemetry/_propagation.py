"""Mellea's spans as the current OpenTelemetry context where its operations do their work.

mellea parents its own spans by call scope (`_spans`) and never needs "the current
span". Code it runs for the user does: a span the application opens inside a tool, a
validation function or a sampling strategy nests under whatever span is current there,
and an HTTP request carries the current one to the server. While tracing is on,
`install()` puts two things on the hook seams (`mellea.core.hooks.observe`):

- `operation_context(call_id)` — the body of operation `call_id` (a tool call, a
  validation, a sampling loop, a component call, a model request) runs with its span
  current (`trace.use_span`: attached on entry, detached on exit, in the task running
  the body, so concurrent thunks never see each other's). Tasks and worker threads the
  body starts copy that context: a sync tool (`asyncio.to_thread`) and a sync validation
  function (run in a copied context on the validation executor) see the span too.
- `propagate.inject` — the configured propagator (W3C `traceparent` / `tracestate` and
  baggage unless `OTEL_PROPAGATORS` says otherwise) writes the current context into each
  outgoing HTTP request's headers; in a request's task that is its `chat` span, so a
  traced server or proxy joins mellea's trace.

Only imported while tracing is on (it imports OpenTelemetry).
"""

from __future__ import annotations

import contextlib
from typing import Any

from opentelemetry import propagate, trace

from ..core import hooks
from ._spans import SPANS

__all__ = ["install", "operation_context", "uninstall"]

_NONE: contextlib.AbstractContextManager[object] = contextlib.nullcontext()


def operation_context(call_id: str) -> contextlib.AbstractContextManager[Any]:
    """Operation `call_id`'s span as the current span for a `with` block (a no-op when the
    operation has no open span). Errors are recorded by the tracing plugins, not here."""
    span = SPANS.get(call_id)
    if span is None:
        return _NONE
    return trace.use_span(span, record_exception=False, set_status_on_exception=False)


def install() -> None:
    """Make mellea's spans current where its operations run, and propagate them in HTTP."""
    hooks.observe(operation_context, propagate.inject)


def uninstall() -> None:
    """Back to no observer: no context switching, no injected headers."""
    hooks.observe(None, None)
