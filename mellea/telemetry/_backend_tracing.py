"""`BackendTracingPlugin`: a GenAI-convention span per request to a model.

`chat {model}` for `generate_from_context`, `text_completion {model}` for a
`generate_from_raw` batch. Opened at `generation_pre_call` (on the caller's side), closed
at `generation_post_call` / `generation_error` (on mellea's I/O thread, before anyone
reading the thunk wakes up), with the request's options, the response's model, id and
finish reasons, token usage (reasoning and cached tokens included), time to first chunk
and — with `MELLEA_GENERATION_CHUNK_EVENTS` — a `chunk_processed` event per streamed chunk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core.errors import PluginViolationError
from ..plugins import Plugin, PluginMode, hook
from ._attrs import PROMPT_LIMIT, Usage, class_name, clip, request_option_attributes
from ._spans import SPANS
from ._state import STATE
from .tracing import add_event, finish_span, open_backend_span

if TYPE_CHECKING:
    from ..plugins.hooks.generation import (
        GenerationBatchErrorPayload,
        GenerationBatchPostCallPayload,
        GenerationBatchPreCallPayload,
        GenerationErrorPayload,
        GenerationEventPayload,
        GenerationPostCallPayload,
        GenerationPreCallPayload,
    )

__all__ = ["BackendTracingPlugin"]

AUDIT = PluginMode.AUDIT
_STREAM_KEY = "@@@stream@@@"


def _context_size(ctx: Any) -> int | None:
    try:
        return len(ctx) if ctx is not None else None
    except TypeError:
        return None


def _response_attributes(mot: Any) -> dict[str, Any]:
    gen = getattr(mot, "generation", None)
    if gen is None:
        return {}
    extra = gen.extra or {}
    out: dict[str, Any] = {
        "gen_ai.response.model": gen.response_model,
        "gen_ai.response.id": gen.response_id,
        "gen_ai.response.finish_reasons": list(gen.finish_reasons) if gen.finish_reasons else None,
        "gen_ai.response.time_to_first_chunk": gen.ttfb_ms / 1000
        if gen.streaming and gen.ttfb_ms is not None else None,  # streamed requests only
        "gen_ai.request.stream": True if gen.streaming else None,
        "mellea.request.http_attempts": gen.attempts if gen.attempts > 1 else None,
        "mellea.response.cache": extra.get("cache"),
        "mellea.usage.estimated": True if extra.get("usage_estimated") else None,
        **Usage.of(gen.usage).attributes(),
    }  # fmt: skip
    if STATE.content:
        value = getattr(mot, "value", None)
        out["gen_ai.output.messages"] = clip(
            [{"role": "assistant", "content": value}], PROMPT_LIMIT
        )
    return out


class BackendTracingPlugin(Plugin, name="backend_tracing", priority=1040):
    """A span per model request, following the OpenTelemetry GenAI conventions."""

    @hook("generation_pre_call", mode=AUDIT)
    async def on_pre_call(self, payload: GenerationPreCallPayload, context: dict[str, Any]) -> None:
        fmt = payload.format
        options = payload.model_options or {}
        open_backend_span(
            "chat", payload.generation_id or payload.call_id, payload.parent,
            payload.model, payload.provider, {
                "mellea.component.type": class_name(payload.action),
                "mellea.request.context_size": _context_size(payload.context),
                "gen_ai.output.type": "json" if fmt is not None else None,
                "mellea.request.format_type": class_name(fmt),
                "mellea.action.tool_calls": payload.tool_calls,
                "gen_ai.request.stream": True if options.get(_STREAM_KEY) else None,
                "gen_ai.conversation.id": payload.session_id,
                **request_option_attributes(options),
            },
        )  # fmt: skip

    @hook("generation_post_call", mode=AUDIT)
    async def on_post_call(
        self, payload: GenerationPostCallPayload, context: dict[str, Any]
    ) -> None:
        key = payload.generation_id or payload.call_id
        if STATE.chunk_events and payload.chunk_times_ms and not SPANS.had_chunk_events(key):
            self._chunk_events(key, payload)
        attributes = _response_attributes(payload.model_output)
        if STATE.content:
            attributes["gen_ai.input.messages"] = clip(payload.prompt, PROMPT_LIMIT)
        finish_span(key, attributes)

    @staticmethod
    def _chunk_events(key: str, payload: GenerationPostCallPayload) -> None:
        """A `chunk_processed` event per streamed chunk, at the time it arrived."""
        started_ns = payload.timestamp.timestamp() * 1e9 - payload.latency_ms * 1e6
        previous: float | None = None
        for index, at_ms in enumerate(payload.chunk_times_ms):
            add_event(key, "chunk_processed", {
                "mellea.generation.chunk_index": index,
                "mellea.generation.time_since_last_chunk_ms": None if previous is None
                else at_ms - previous,
            }, int(started_ns + at_ms * 1e6))  # fmt: skip
            previous = at_ms

    @hook("generation_error", mode=AUDIT)
    async def on_error(self, payload: GenerationErrorPayload, context: dict[str, Any]) -> None:
        key = payload.generation_id or payload.call_id
        if SPANS.get(key) is None:
            if not isinstance(payload.exception, PluginViolationError):
                return
            # Blocked at pre-call: nothing was sent, but the refusal belongs in the trace.
            open_backend_span("chat", key, payload.parent, payload.model, payload.provider, {})
        finish_span(key, _response_attributes(payload.model_output), exception=payload.exception)

    @hook("generation_event", mode=AUDIT)
    async def on_generation_event(
        self, payload: GenerationEventPayload, context: dict[str, Any]
    ) -> None:
        key = payload.generation_id or payload.call_id
        data = payload.data or {}
        if payload.event_name == "chunk_processed":
            if not STATE.chunk_events or not SPANS.mark_chunk_events(key):
                return
            add_event(key, "chunk_processed", {
                "mellea.generation.chunk_index": data.get("chunk_index"),
                "mellea.generation.chunk_text_length": data.get("chunk_text_length"),
                "mellea.generation.time_since_last_chunk_ms": data.get("time_since_last_chunk_ms"),
            })  # fmt: skip
            return
        add_event(
            key, payload.event_name or "event", {f"mellea.event.{k}": v for k, v in data.items()}
        )

    @hook("generation_batch_pre_call", mode=AUDIT)
    async def on_batch_pre_call(
        self, payload: GenerationBatchPreCallPayload, context: dict[str, Any]
    ) -> None:
        fmt = payload.format
        open_backend_span(
            "text_completion", payload.generation_id or payload.call_id, payload.parent,
            payload.model, payload.provider, {
                "mellea.request.num_actions": payload.num_actions,
                "gen_ai.output.type": "json" if fmt is not None else None,
                "mellea.request.format_type": class_name(fmt),
                "mellea.action.tool_calls": payload.tool_calls,
                "gen_ai.conversation.id": payload.session_id,
                **request_option_attributes(payload.model_options),
            },
        )  # fmt: skip

    @hook("generation_batch_post_call", mode=AUDIT)
    async def on_batch_post_call(
        self, payload: GenerationBatchPostCallPayload, context: dict[str, Any]
    ) -> None:
        reasons = sorted(
            {r for m in payload.model_outputs for r in (m.generation.finish_reasons or [])}
        )
        finish_span(payload.generation_id or payload.call_id, {
            **Usage.of(payload.usage).attributes(),
            "gen_ai.response.finish_reasons": reasons or None,
        })  # fmt: skip

    @hook("generation_batch_error", mode=AUDIT)
    async def on_batch_error(
        self, payload: GenerationBatchErrorPayload, context: dict[str, Any]
    ) -> None:
        finish_span(payload.generation_id or payload.call_id, exception=payload.exception)
