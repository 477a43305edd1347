"""Telemetry context: `session_id`, `request_id`, `model_id`, `sampling_iteration`.

The fields live in mellea's one log context (`mellea.core.log_context`), so whatever
`with_context` sets appears on every log record of the block — in any task or thread it
starts — and `get_current_context()` reads it back. Where a field was not set
explicitly, the operation running here supplies it while plugins or telemetry are on
(`mellea.core.hooks.current_scope()`): the session, the user's request (the outermost
operation in the session) and the sampling attempt.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncGenerator, Generator
from typing import Any

from ..core.hooks import current_scope
from ..core.utils import ContextFilter, current_log_context, log_context

__all__ = [
    "FIELDS",
    "MelleaContextFilter",
    "async_with_context",
    "generate_request_id",
    "get_current_context",
    "get_model_id",
    "get_request_id",
    "get_sampling_iteration",
    "get_session_id",
    "with_context",
]

FIELDS = ("session_id", "request_id", "model_id", "sampling_iteration")
"""The fields `with_context` accepts."""


def _from_scope() -> dict[str, Any]:
    scope = current_scope()
    if scope is None:
        return {}
    attempt = scope.find("attempt")
    return {
        "session_id": scope.session_id,
        "request_id": scope.request_id or None,
        "sampling_iteration": attempt.attempt if attempt is not None else None,
    }


def get_current_context() -> dict[str, Any]:
    """The telemetry fields in effect here (those that are not None)."""
    explicit = current_log_context()
    merged = {**_from_scope(), **{k: explicit[k] for k in FIELDS if k in explicit}}
    return {k: v for k, v in merged.items() if v is not None}


def get_session_id() -> str | None:
    """The session of the code running here (None outside any)."""
    value = get_current_context().get("session_id")
    return str(value) if value is not None else None


def get_request_id() -> str | None:
    """The request id set by `with_context`, else the id of the user's current request."""
    value = get_current_context().get("request_id")
    return str(value) if value is not None else None


def get_model_id() -> str | None:
    """The model id set by `with_context` (None if none was)."""
    value = current_log_context().get("model_id")
    return str(value) if value is not None else None


def get_sampling_iteration() -> int | None:
    """The 1-based sampling attempt the code here belongs to (None outside a loop)."""
    value = get_current_context().get("sampling_iteration")
    return value if isinstance(value, int) else None


def generate_request_id() -> str:
    """A new random request id (32 hex digits)."""
    return uuid.uuid4().hex


def _checked(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise ValueError(f"unknown telemetry context fields {unknown}; known: {list(FIELDS)}")
    return fields


@contextlib.contextmanager
def with_context(**kwargs: Any) -> Generator[None, None, None]:
    """Set telemetry fields for the block (restored after it; nests; per task/thread).

    Accepts `session_id`, `request_id`, `model_id`, `sampling_iteration`; another name
    is a `ValueError`. For free-form fields use `mellea.core.log_context`.
    """
    with log_context(**_checked(kwargs)):
        yield


@contextlib.asynccontextmanager
async def async_with_context(**kwargs: Any) -> AsyncGenerator[None, None]:
    """`with_context` as an `async with` block."""
    with log_context(**_checked(kwargs)):
        yield


class MelleaContextFilter(ContextFilter):
    """Puts the telemetry fields — and the log-context fields — on each log record.

    Also, while tracing is on, the `trace_id` / `span_id` of the mellea operation the
    record was logged in (its span), so logs and traces correlate even on mellea's I/O
    thread, where no span is "current". A record's own values win.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        super().filter(record)
        for key, value in _from_scope().items():
            if value is not None and not hasattr(record, key):
                setattr(record, key, value)
        if not hasattr(record, "trace_id"):
            from ._correlation import span_context_here

            found = span_context_here()
            if found is not None:
                record.trace_id, record.span_id = found
        return True
