"""The tracing plugins: spans opened and closed on mellea's hook points.

Registered (globally) when tracing is on; each hook is an AUDIT hook — it runs after the
policy hooks have had their say, sees the final payload, can neither change nor block
the call, and an error in it is logged, never raised. Spans are kept by operation id
(`_spans.SPANS`), so a span may open on the caller's thread and close on mellea's I/O
thread, and its parent is always the operation that started it.

| plugin | spans |
|---|---|
| `SessionTracingPlugin` | `start_session` (construction), `session` (a `with` block) |
| `ComponentTracingPlugin` | `action` per instruct / chat / act / `@generative` call |
| `SamplingTracingPlugin` | `sampling` per loop, `attempt` per attempt (+ `iteration`, `repair` events) |
| `ValidationTracingPlugin` | `validation` per set of requirements checked |
| `BackendTracingPlugin` | `chat {model}` / `text_completion {model}` per request (GenAI conventions) |
| `ToolTracingPlugin` | `execute_tool {name}` per tool call |
| `StreamingTracingPlugin` | `stream` per `stream()` run, its events as span events |
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..plugins import Plugin, PluginMode, hook
from ._attrs import class_name, clip
from ._spans import SPANS
from ._state import STATE
from .tracing import add_event, finish_span, open_span, record_error

if TYPE_CHECKING:
    from ..plugins.hooks.component import (
        ComponentPostErrorPayload,
        ComponentPostSuccessPayload,
        ComponentPreExecutePayload,
    )
    from ..plugins.hooks.sampling import (
        SamplingIterationPayload,
        SamplingLoopEndPayload,
        SamplingLoopStartPayload,
        SamplingRepairPayload,
    )
    from ..plugins.hooks.session import (
        SessionCleanupPayload,
        SessionPostInitPayload,
        SessionPreInitPayload,
        SessionResetPayload,
    )
    from ..plugins.hooks.streaming import (
        StreamingEndPayload,
        StreamingEventPayload,
        StreamingStartPayload,
    )
    from ..plugins.hooks.tool import ToolPostInvokePayload, ToolPreInvokePayload
    from ..plugins.hooks.validation import ValidationPostCheckPayload, ValidationPreCheckPayload

from ._backend_tracing import BackendTracingPlugin

__all__ = [
    "BackendTracingPlugin",
    "ComponentTracingPlugin",
    "SamplingTracingPlugin",
    "SessionTracingPlugin",
    "StreamingTracingPlugin",
    "ToolTracingPlugin",
    "ValidationTracingPlugin",
]

AUDIT = PluginMode.AUDIT


def _content(value: Any) -> str | None:
    return clip(value) if STATE.content else None


def _ms_ago(payload: Any, latency_ms: float) -> int:
    """When an operation that ended at `payload.timestamp` after `latency_ms` began (ns)."""
    return int(payload.timestamp.timestamp() * 1e9 - latency_ms * 1e6)


class SessionTracingPlugin(Plugin, name="session_tracing", priority=1039):
    """`start_session` spans backend construction; `session` spans the session's life."""

    @hook("session_pre_init", mode=AUDIT)
    async def on_pre_init(self, payload: SessionPreInitPayload, context: dict[str, Any]) -> None:
        open_span(f"{payload.call_id}:start", "start_session", payload.parent, {
            "mellea.session.id": payload.session_id or payload.call_id,
            "mellea.session.backend_name": payload.backend_name,
            "gen_ai.request.model": payload.model_id,
            "mellea.session.context_type": payload.context_type,
        })  # fmt: skip

    @hook("session_post_init", mode=AUDIT)
    async def on_post_init(self, payload: SessionPostInitPayload, context: dict[str, Any]) -> None:
        from ._attrs import provider_name

        provider = provider_name(payload.backend_name or None)
        finish_span(f"{payload.session_id}:start", {
            "gen_ai.provider.name": provider, "gen_ai.request.model": payload.model_id or None,
        })  # fmt: skip
        SPANS.remember_session(payload.session, payload.session_id, {
            "mellea.session.id": payload.session_id,
            "mellea.session.context_type": class_name(payload.context),
            "gen_ai.provider.name": provider,
            "gen_ai.request.model": payload.model_id or None,
        })  # fmt: skip

    @hook("session_reset", mode=AUDIT)
    async def on_reset(self, payload: SessionResetPayload, context: dict[str, Any]) -> None:
        add_event(payload.session_id or "", "reset", {})

    @hook("session_cleanup", mode=AUDIT)
    async def on_cleanup(self, payload: SessionCleanupPayload, context: dict[str, Any]) -> None:
        span = SPANS.end_session(payload.session_id or "")
        if span is None:
            return
        span.set_attribute("mellea.session.interaction_count", payload.interaction_count)
        if payload.exception is not None:
            record_error(span, payload.exception)
        span.end()


class ComponentTracingPlugin(Plugin, name="component_tracing", priority=1041):
    """An `action` span per component call, from `component_pre_execute` to its result."""

    @hook("component_pre_execute", mode=AUDIT)
    async def on_component_pre_execute(
        self, payload: ComponentPreExecutePayload, context: dict[str, Any]
    ) -> None:
        strategy = payload.strategy
        open_span(payload.action_id or payload.call_id, "action", payload.parent, {
            "mellea.component.type": payload.component_type or class_name(payload.action),
            "mellea.action.has_requirements": bool(payload.requirements),
            "mellea.action.has_strategy": strategy is not None,
            "mellea.sampling.strategy_type": class_name(strategy),
            "mellea.action.has_format": payload.format is not None,
            "mellea.action.tool_calls": payload.tool_calls_enabled,
            "gen_ai.conversation.id": payload.session_id,
        })  # fmt: skip

    @hook("component_post_success", mode=AUDIT)
    async def on_component_post_success(
        self, payload: ComponentPostSuccessPayload, context: dict[str, Any]
    ) -> None:
        result = payload.result
        text = getattr(result, "value", None)
        text = text if isinstance(text, str) else (str(result) if result is not None else None)
        attempts = payload.sampling_results
        finish_span(payload.action_id or payload.call_id, {
            "mellea.action.num_generate_logs": len(attempts) if attempts is not None
            else int(payload.generate_log is not None),
            "mellea.sampling.success": payload.sampling_success,
            "mellea.action.response": _content(text),
            "mellea.action.response_length": len(text) if text is not None else None,
        })  # fmt: skip

    @hook("component_post_error", mode=AUDIT)
    async def on_component_post_error(
        self, payload: ComponentPostErrorPayload, context: dict[str, Any]
    ) -> None:
        key = payload.action_id or payload.call_id
        if SPANS.get(key) is None:  # blocked before it started: still worth a span
            start = _ms_ago(payload, payload.latency_ms)
            open_span(key, "action", payload.parent, {
                "mellea.component.type": payload.component_type or None,
            }, start_ns=start)  # fmt: skip
        error = payload.error if isinstance(payload.error, BaseException) else None
        finish_span(key, exception=error)


class SamplingTracingPlugin(Plugin, name="sampling_tracing", priority=1044):
    """A `sampling` span per loop, an `attempt` span per attempt inside it."""

    @hook("sampling_loop_start", mode=AUDIT)
    async def on_loop_start(
        self, payload: SamplingLoopStartPayload, context: dict[str, Any]
    ) -> None:
        open_span(payload.sampling_id or payload.call_id, "sampling", payload.parent, {
            "mellea.sampling.strategy_type": payload.strategy_name or None,
            "mellea.sampling.loop_budget": payload.loop_budget,
            "mellea.sampling.requirement_count": len(payload.requirements),
        })  # fmt: skip

    @hook("sampling_iteration", mode=AUDIT)
    async def on_iteration(
        self, payload: SamplingIterationPayload, context: dict[str, Any]
    ) -> None:
        outcome = {
            "mellea.sampling.iteration": payload.iteration,
            "mellea.sampling.all_validations_passed": payload.all_validations_passed,
            "mellea.validation.valid_count": payload.valid_count,
            "mellea.validation.requirement_count": payload.total_count,
        }
        attempt = payload.call_id
        if SPANS.get(attempt) is None:  # nothing inside it reported: open it backdated
            start = _ms_ago(payload, payload.latency_ms)
            open_span(attempt, "attempt", payload.parent, {
                "mellea.sampling.strategy_type": payload.strategy_name or None,
            }, start_ns=start)  # fmt: skip
        finish_span(attempt, outcome)
        add_event(payload.sampling_id, "iteration", outcome)

    @hook("sampling_repair", mode=AUDIT)
    async def on_repair(self, payload: SamplingRepairPayload, context: dict[str, Any]) -> None:
        add_event(payload.sampling_id, "repair", {
            "mellea.sampling.repair_iteration": payload.repair_iteration,
            "mellea.sampling.repair_type": payload.repair_type,
            "mellea.validation.failed_count": len(payload.failed_validations),
        })  # fmt: skip

    @hook("sampling_loop_end", mode=AUDIT)
    async def on_loop_end(self, payload: SamplingLoopEndPayload, context: dict[str, Any]) -> None:
        key = payload.sampling_id or payload.call_id
        for abandoned in SPANS.pop_descendants(key, "attempt"):  # cancelled samples
            abandoned.set_attribute("mellea.cancelled", True)
            abandoned.end()
        finish_span(key, {
            "mellea.sampling.success": payload.success,
            "mellea.sampling.iterations_used": payload.iterations_used,
            "mellea.sampling.failure_reason": None if payload.success
            else clip(payload.failure_reason),
        }, exception=payload.exception)  # fmt: skip


class ValidationTracingPlugin(Plugin, name="validation_tracing", priority=1045):
    """A `validation` span per set of requirements checked."""

    @hook("validation_pre_check", mode=AUDIT)
    async def on_pre_check(
        self, payload: ValidationPreCheckPayload, context: dict[str, Any]
    ) -> None:
        open_span(payload.validation_id or payload.call_id, "validation", payload.parent, {
            "mellea.validation.requirement_count": len(payload.requirements),
            "mellea.validation.requirement_types": sorted(
                {class_name(r) or "" for r in payload.requirements}
            ),
        })  # fmt: skip

    @hook("validation_post_check", mode=AUDIT)
    async def on_post_check(
        self, payload: ValidationPostCheckPayload, context: dict[str, Any]
    ) -> None:
        reasons = [
            str(r.reason) for r in payload.results if not bool(r) and getattr(r, "reason", None)
        ]
        finish_span(payload.validation_id or payload.call_id, {
            "mellea.validation.passed": payload.all_validations_passed,
            "mellea.validation.passed_count": payload.passed_count,
            "mellea.validation.failed_count": payload.failed_count,
            "mellea.validation.failure_reasons": [clip(r) for r in reasons]
            if STATE.content and reasons else None,
        }, exception=payload.exception)  # fmt: skip


def _tool_attributes(call: Any, is_control_flow: bool) -> dict[str, Any]:
    import hashlib
    import json

    name = getattr(call, "name", None) or "unknown"
    schema: Any = None
    try:
        schema = getattr(getattr(call, "func", None), "as_json_tool", None)
    except Exception:  # a tool's schema must never break the call it reports on
        schema = None
    function = schema.get("function") if isinstance(schema, dict) else None
    args = getattr(call, "args", None)
    serialized = json.dumps(dict(args), sort_keys=True, default=str) if args else None
    return {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": name,
        "gen_ai.tool.type": schema.get("type") if isinstance(schema, dict) else None,
        "gen_ai.tool.description": (function or {}).get("description") or None,
        "gen_ai.tool.call.id": getattr(call, "tool_call_id", None),
        "gen_ai.tool.call.arguments": _content(serialized),
        "mellea.tool.is_control_flow": is_control_flow,
        "mellea.tool.arguments_hash": hashlib.sha256(serialized.encode()).hexdigest()[:16]
        if serialized
        else None,
    }


class ToolTracingPlugin(Plugin, name="tool_tracing", priority=1043):
    """An `execute_tool {name}` span per tool call (GenAI tool-execution convention)."""

    @hook("tool_pre_invoke", mode=AUDIT)
    async def on_tool_pre_invoke(
        self, payload: ToolPreInvokePayload, context: dict[str, Any]
    ) -> None:
        attributes = _tool_attributes(payload.model_tool_call, payload.is_control_flow)
        name = f"execute_tool {attributes['gen_ai.tool.name']}"
        open_span(payload.tool_invocation_id or payload.call_id, name, payload.parent, attributes)

    @hook("tool_post_invoke", mode=AUDIT)
    async def on_tool_post_invoke(
        self, payload: ToolPostInvokePayload, context: dict[str, Any]
    ) -> None:
        key = payload.tool_invocation_id or payload.call_id
        if SPANS.get(key) is None:  # blocked before it ran
            attributes = _tool_attributes(payload.model_tool_call, payload.is_control_flow)
            start = _ms_ago(payload, payload.execution_time_ms)
            open_span(key, f"execute_tool {attributes['gen_ai.tool.name']}", payload.parent,
                      attributes, start_ns=start)  # fmt: skip
        error = payload.error if isinstance(payload.error, BaseException) else None
        finish_span(key, {
            "mellea.tool.status": "success" if payload.success else "failure",
            "mellea.tool.execution_time_ms": payload.execution_time_ms,
            "gen_ai.tool.call.result": _content(payload.tool_output) if payload.success else None,
        }, exception=error)  # fmt: skip


def _event_name(event: Any) -> str:
    name = type(event).__name__.removesuffix("Event")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _event_attributes(event: Any) -> dict[str, Any]:
    text = getattr(event, "text", None)
    full_text = getattr(event, "full_text", None)
    results = getattr(event, "results", None)
    return {
        "mellea.streaming.chunk_index": getattr(event, "chunk_index", None),
        "mellea.streaming.attempt": getattr(event, "attempt", None),
        "mellea.streaming.chunk_text_length": len(text) if isinstance(text, str) else None,
        "mellea.streaming.full_text_length": len(full_text) if isinstance(full_text, str) else None,
        "mellea.validation.passed": getattr(event, "passed", None),
        "mellea.validation.requirement_count": len(results) if results is not None else None,
        "mellea.streaming.success": getattr(event, "success", None),
        "mellea.streaming.reason": clip(getattr(event, "reason", None)),
        "mellea.error.type": getattr(event, "exception_type", None),
        "mellea.error.detail": clip(getattr(event, "detail", None)),
    }


class StreamingTracingPlugin(Plugin, name="streaming_tracing", priority=1042):
    """A `stream` span per `stream()` run; each `StreamEvent` becomes a span event."""

    @hook("streaming_start", mode=AUDIT)
    async def on_streaming_start(
        self, payload: StreamingStartPayload, context: dict[str, Any]
    ) -> None:
        # Its first request may have opened the span already (it starts before the run).
        open_span(payload.streaming_id or payload.call_id, "stream", payload.parent, {
            "mellea.streaming.has_requirements": payload.has_requirements,
            "mellea.streaming.requirement_count": payload.requirement_count,
            "mellea.streaming.chunking_strategy": payload.chunking_strategy or None,
        })  # fmt: skip

    @hook("streaming_event", mode=AUDIT)
    async def on_streaming_event(
        self, payload: StreamingEventPayload, context: dict[str, Any]
    ) -> None:
        if payload.event is not None:
            key = payload.streaming_id or payload.call_id
            add_event(key, _event_name(payload.event), _event_attributes(payload.event))

    @hook("streaming_end", mode=AUDIT)
    async def on_streaming_end(self, payload: StreamingEndPayload, context: dict[str, Any]) -> None:
        from ._attrs import provider_name

        finish_span(payload.streaming_id or payload.call_id, {
            "mellea.streaming.success": payload.success,
            "mellea.streaming.failure_reason": clip(payload.failure_reason),
            "mellea.streaming.full_text_length": payload.full_text_length,
            "gen_ai.request.model": payload.model,
            "gen_ai.provider.name": provider_name(payload.provider),
        }, exception=payload.exception)  # fmt: skip


TRACING_PLUGINS = (
    SessionTracingPlugin,
    ComponentTracingPlugin,
    SamplingTracingPlugin,
    ValidationTracingPlugin,
    BackendTracingPlugin,
    ToolTracingPlugin,
    StreamingTracingPlugin,
)
"""Registered, one instance each, when tracing is on."""
