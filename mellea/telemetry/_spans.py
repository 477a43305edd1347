"""Open spans by operation id, each parented by the operation that started it.

Every hook payload names its operation (`call_id`) and the scope it started in
(`parent`, a `mellea.core.hooks.CallScope` whose chain reaches the session). A new span's
parent is the nearest operation up that chain with an open span — never "whatever span
happens to be current", which on mellea's I/O thread or among concurrent thunks would be
a sibling. With no mellea ancestor the span joins the caller's current OpenTelemetry
context (an application span around the call), else the session of the enclosing
`with session:` block, or starts a trace.

A session gets a span only when used as a `with` block (as the docs say): it opens when
the first operation inside the block reports (backdated to the session's creation) and
ends with the block. Sessions used without `with` add no span; their calls parent as
above (a long-lived service session would otherwise hold every trace open).

A sampling attempt has no hook of its own when it starts: its span opens when its first
operation reports (backdated to when the attempt began) and closes at
`sampling_iteration` (a `stream()` run's span likewise opens with its first request); attempts a loop abandons (a parallel strategy's cancelled samples)
are closed when the loop ends.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._state import STATE

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from ..core.hooks import CallScope

__all__ = ["SPANS", "SpanTable", "attribute_values", "set_attributes"]


def _attribute_value(value: Any) -> Any:
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        if all(isinstance(v, str) for v in value):
            return list(value)
        if all(isinstance(v, bool | int | float) and not isinstance(v, bool) for v in value):
            return list(value)
        return [str(v) for v in value]
    return str(value)


def attribute_values(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """`attributes` without None values, as types OpenTelemetry accepts."""
    return {k: _attribute_value(v) for k, v in attributes.items() if v is not None}


def set_attributes(span: Span, attributes: Mapping[str, Any]) -> None:
    """Set the attributes that are not None, as types OpenTelemetry accepts."""
    values = attribute_values(attributes)
    if values:
        span.set_attributes(values)  # one lock round trip, not one per attribute


@dataclass(slots=True)
class _Open:
    span: Span
    name: str
    ancestors: frozenset[str]  # ids of the scopes the operation runs in
    chunk_events_seen: bool = False


class SpanTable:
    """The spans of operations in progress (thread-safe: hooks run on several threads)."""

    def __init__(self) -> None:
        self._open: dict[str, _Open] = {}
        self._sessions: dict[str, tuple[int, dict[str, Any]]] = {}  # not yet spanned
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._open)

    def start(
        self,
        tracer: Any,
        key: str,
        name: str,
        parent: CallScope | None,
        attributes: Mapping[str, Any],
        *,
        kind: Any = None,
        start_ns: int | None = None,
        attempt_tracer: Any = None,
    ) -> Span:
        """Open the span of operation `key`, a child of its nearest open ancestor.

        If `key` is open already (a span its first child opened, on another thread), that
        span gets `attributes` and is returned: one span per operation, whoever came first.
        """
        with self._lock:
            found = self._open.get(key)
            if found is not None:
                set_attributes(found.span, attributes)
                return found.span
            context = self._parent_context(parent, attempt_tracer or tracer)
            span = self._start_locked(
                tracer, key, name, parent, context, attributes, kind, start_ns
            )
        return span

    def _start_locked(
        self,
        tracer: Any,
        key: str,
        name: str,
        parent: CallScope | None,
        context: Any,
        attributes: Mapping[str, Any],
        kind: Any,
        start_ns: int | None,
    ) -> Span:
        from opentelemetry.trace import SpanKind

        span: Span = tracer.start_span(
            name, context=context, kind=kind or SpanKind.INTERNAL,
            attributes=attribute_values(attributes), start_time=start_ns,
        )  # fmt: skip
        ancestors = frozenset(s.id for s in parent.chain()) if parent is not None else frozenset()
        self._open[key] = _Open(span, name, ancestors)
        return span

    def _parent_context(self, parent: CallScope | None, attempt_tracer: Any) -> Any:
        """The OpenTelemetry context a child of scope `parent` starts in (None: ambient)."""
        from opentelemetry.trace import set_span_in_context

        node = parent
        while node is not None:
            found = self._open.get(node.id) if node.kind != "session" else None
            if found is not None:
                return set_span_in_context(found.span)
            name = _OPENED_BY_CHILDREN.get(node.kind)
            if name is not None and attempt_tracer is not None:
                outer = self._parent_context(node.parent, attempt_tracer)
                above = self._open.get(node.parent.id) if node.parent else None
                attributes = _attempt_attributes(node, above) if name == "attempt" else {}
                span = self._start_locked(
                    attempt_tracer, node.id, name, node.parent, outer, attributes, None,
                    node.started_ns or None,
                )  # fmt: skip
                return set_span_in_context(span)
            node = node.parent
        return self._ambient(parent)

    def _ambient(self, parent: CallScope | None) -> Any:
        """No mellea operation above: the application's current span if there is one, else
        the span of the session whose `with` block this runs in (so work done there outside
        any session method — `call_tools(...)`, say — still nests under it), else None."""
        from opentelemetry.trace import get_current_span, set_span_in_context

        if get_current_span().get_span_context().is_valid:
            return None
        in_block = _with_session_id()
        session = parent.find("session") if parent is not None else None
        if in_block is None or (session is not None and session.id != in_block):
            return None
        span = self._session_span(in_block)
        return set_span_in_context(span) if span is not None else None

    # ----- sessions: a span only for a session used as a `with` block ---------------

    def remember_session(
        self, session: Any, session_id: str, attributes: Mapping[str, Any]
    ) -> None:
        """Note a new session; its span opens (backdated to now) if it runs a `with` block."""
        self._sessions[session_id] = (time.time_ns(), dict(attributes))
        if session is not None:
            try:
                weakref.finalize(session, self._sessions.pop, session_id, None)
            except TypeError:  # not weak-referenceable: forgotten at cleanup only
                pass

    def _session_span(self, session_id: str) -> Span | None:
        found = self._open.get(session_id)
        if found is not None:
            return found.span
        pending = self._sessions.pop(session_id, None)
        tracer = STATE.application_tracer
        if pending is None or tracer is None:
            return None
        start_ns, attributes = pending
        return self._start_locked(
            tracer, session_id, "session", None, None, attributes, None, start_ns
        )

    def end_session(self, session_id: str) -> Span | None:
        """The span of a session that ends, opened now if it was used as a `with` block but
        nothing inside reported; None for a session never used as one."""
        with self._lock:
            if session_id not in self._open and _with_session_id() != session_id:
                self._sessions.pop(session_id, None)
                return None
            self._session_span(session_id)
            found = self._open.pop(session_id, None)
        return found.span if found is not None else None

    def get(self, key: str) -> Span | None:
        found = self._open.get(key)
        return found.span if found is not None else None

    def mark_chunk_events(self, key: str) -> bool:
        """Note that `key` received per-chunk events; True if it is open."""
        found = self._open.get(key)
        if found is not None:
            found.chunk_events_seen = True
        return found is not None

    def had_chunk_events(self, key: str) -> bool:
        found = self._open.get(key)
        return found is not None and found.chunk_events_seen

    def pop(self, key: str) -> Span | None:
        """Forget the span of `key` and return it (the caller ends it)."""
        with self._lock:
            found = self._open.pop(key, None)
        return found.span if found is not None else None

    def pop_descendants(self, key: str, name: str) -> list[Span]:
        """Forget and return the open spans called `name` of operations inside `key`."""
        with self._lock:
            keys = [k for k, v in self._open.items() if key in v.ancestors and v.name == name]
            return [self._open.pop(k).span for k in keys]

    def innermost(self, scope: CallScope | None) -> Span | None:
        """The open span nearest `scope` up its chain (for log correlation)."""
        node = scope
        while node is not None:
            found = self._open.get(node.id)
            if found is not None:
                return found.span
            node = node.parent
        return None

    def pop_all(self) -> list[Span]:
        with self._lock:
            spans = [v.span for v in self._open.values()]
            self._open.clear()
            self._sessions.clear()
        return spans


_get_session: Any = None


# Operations whose span may open when the first operation inside them reports (before
# their own start hook, or with none): a sampling attempt, a `stream()` run (its first
# request starts before the run's `streaming_start`).
_OPENED_BY_CHILDREN = {"attempt": "attempt", "streaming": "stream"}


def _with_session_id() -> str | None:
    """The id of the session whose `with` block the code here runs in (None outside)."""
    global _get_session
    if _get_session is None:  # stdlib loads lazily; resolve once, not per span
        from ..stdlib.session import get_session

        _get_session = get_session
    try:
        session_id: str = _get_session().id
    except RuntimeError:
        return None
    return session_id


def _attempt_attributes(scope: CallScope, sampling: _Open | None) -> dict[str, Any]:
    strategy = None
    if sampling is not None:
        attributes = getattr(sampling.span, "attributes", None) or {}
        strategy = attributes.get("mellea.sampling.strategy_type")
    return {
        "mellea.sampling.iteration": scope.attempt,
        "mellea.sampling.strategy_type": strategy,
    }


SPANS = SpanTable()
"""The process's open spans (one table: operation ids are process-unique)."""
