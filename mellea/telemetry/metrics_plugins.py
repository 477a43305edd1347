"""The metrics plugins: instruments recorded on mellea's hook points.

Registered (globally) when metrics are on. Every hook is an AUDIT hook: recording into
OpenTelemetry's in-memory aggregation takes microseconds, so the hooks run inline — no
task per call — and can neither change nor block the call; an error in one is logged.
Token, latency, error and cost metrics are recorded once a request has finished (after
the last chunk of a stream), from what the backend reported on the thunk.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from ..core.errors import GenerationCancelled, PluginViolationError
from ..plugins import Plugin, PluginMode, hook
from . import metrics
from ._attrs import Usage, class_name, clip
from ._state import STATE
from .pricing import acompute_cost

if TYPE_CHECKING:
    from ..plugins.hooks.adapter_function import (
        AdapterFunctionInvocationCompletePayload,
        AdapterFunctionPhaseCompletePayload,
    )
    from ..plugins.hooks.generation import (
        GenerationBatchErrorPayload,
        GenerationBatchPostCallPayload,
        GenerationErrorPayload,
        GenerationEventPayload,
        GenerationPostCallPayload,
    )
    from ..plugins.hooks.sampling import SamplingIterationPayload, SamplingLoopEndPayload
    from ..plugins.hooks.streaming import StreamingEndPayload, StreamingEventPayload
    from ..plugins.hooks.tool import ToolPostInvokePayload
    from ..plugins.hooks.validation import ValidationPostCheckPayload

__all__ = [
    "AdapterFunctionMetricsPlugin",
    "CostMetricsPlugin",
    "ErrorMetricsPlugin",
    "LatencyMetricsPlugin",
    "RequirementMetricsPlugin",
    "SamplingMetricsPlugin",
    "TokenMetricsPlugin",
    "ToolMetricsPlugin",
]

AUDIT = PluginMode.AUDIT
REASON_LIMIT = 100  # a metric attribute: keep its values few and short


def _who(payload: Any) -> tuple[str, str]:
    """(model, provider) of a generation payload, from the payload or the thunk."""
    gen = getattr(getattr(payload, "model_output", None), "generation", None)
    model = payload.model or (gen.model if gen is not None else None) or "unknown"
    provider = payload.provider or (gen.provider if gen is not None else None) or "unknown"
    return str(model), str(provider)


def _counts_as_error(exc: BaseException | None) -> bool:
    # A refused call sent nothing, and a cancelled one did not fail.
    return exc is not None and not isinstance(exc, PluginViolationError | GenerationCancelled)


class TokenMetricsPlugin(Plugin, name="token_metrics", priority=1050):
    """`gen_ai.client.token.usage`: input and output tokens of each request."""

    @hook("generation_post_call", mode=AUDIT)
    async def record_token_metrics(
        self, payload: GenerationPostCallPayload, context: dict[str, Any]
    ) -> None:
        usage = Usage.of(payload.model_output.generation.usage)
        metrics.record_token_usage_metrics(usage.input, usage.output, *_who(payload), "chat")

    @hook("generation_batch_post_call", mode=AUDIT)
    async def record_batch_token_metrics(
        self, payload: GenerationBatchPostCallPayload, context: dict[str, Any]
    ) -> None:
        usage = Usage.of(payload.usage)
        model, provider = payload.model or "unknown", payload.provider or "unknown"
        metrics.record_token_usage_metrics(
            usage.input, usage.output, model, provider, "text_completion"
        )


class LatencyMetricsPlugin(Plugin, name="latency_metrics", priority=1051):
    """Duration and count of every request; time to first chunk and per chunk when streamed."""

    def __init__(self) -> None:
        self._chunk_events: set[str] = set()  # requests whose chunks reported one by one

    @hook("generation_post_call", mode=AUDIT)
    async def record_latency_metrics(
        self, payload: GenerationPostCallPayload, context: dict[str, Any]
    ) -> None:
        gen = payload.model_output.generation
        model, provider = _who(payload)
        metrics.record_request_duration(
            payload.latency_ms / 1000, model, provider, "chat", streaming=gen.streaming
        )
        if gen.streaming and gen.ttfb_ms is not None:
            metrics.record_ttfb(gen.ttfb_ms / 1000, model, provider, "chat")
        reported = payload.generation_id in self._chunk_events
        self._chunk_events.discard(payload.generation_id or "")
        if STATE.chunk_events and not reported:
            times = payload.chunk_times_ms
            for before, after in itertools.pairwise(times):
                metrics.record_time_per_output_chunk(
                    (after - before) / 1000, model, provider, "chat"
                )

    @hook("generation_batch_post_call", mode=AUDIT)
    async def record_batch_latency_metrics(
        self, payload: GenerationBatchPostCallPayload, context: dict[str, Any]
    ) -> None:
        model, provider = payload.model or "unknown", payload.provider or "unknown"
        metrics.record_request_duration(
            payload.latency_ms / 1000, model, provider, "text_completion"
        )

    @hook("generation_event", mode=AUDIT)
    async def record_chunk_interval_metrics(
        self, payload: GenerationEventPayload, context: dict[str, Any]
    ) -> None:
        gap_ms = (payload.data or {}).get("time_since_last_chunk_ms")
        if payload.event_name != "chunk_processed" or not STATE.chunk_events:
            return
        self._chunk_events.add(payload.generation_id or "")
        if isinstance(gap_ms, int | float):
            model, provider = payload.model or "unknown", payload.provider or "unknown"
            metrics.record_time_per_output_chunk(gap_ms / 1000, model, provider, "chat")


class ErrorMetricsPlugin(Plugin, name="error_metrics", priority=1052):
    """`mellea.llm.errors` by category, and the failed request's duration."""

    @hook("generation_error", mode=AUDIT)
    async def record_error_metrics(
        self, payload: GenerationErrorPayload, context: dict[str, Any]
    ) -> None:
        exc = payload.exception
        if not _counts_as_error(exc):
            return
        model, provider = _who(payload)
        name = type(exc).__name__
        metrics.record_error(metrics.classify_error(exc), model, provider, name, "chat")
        gen = getattr(payload.model_output, "generation", None)
        streaming = bool(gen is not None and gen.streaming)
        metrics.record_request_duration(
            payload.latency_ms / 1000, model, provider, "chat", streaming, exception_class=name
        )

    @hook("generation_batch_error", mode=AUDIT)
    async def record_batch_error_metrics(
        self, payload: GenerationBatchErrorPayload, context: dict[str, Any]
    ) -> None:
        exc = payload.exception
        if not _counts_as_error(exc):
            return
        model, provider = payload.model or "unknown", payload.provider or "unknown"
        name = type(exc).__name__
        metrics.record_error(metrics.classify_error(exc), model, provider, name, "text_completion")
        metrics.record_request_duration(
            payload.latency_ms / 1000, model, provider, "text_completion", exception_class=name
        )

    @hook("streaming_end", mode=AUDIT)
    async def record_streaming_error_metrics(
        self, payload: StreamingEndPayload, context: dict[str, Any]
    ) -> None:
        exc = payload.exception
        if _counts_as_error(exc) and exc is not None:
            model, provider = payload.model or "unknown", payload.provider or "unknown"
            category = metrics.classify_error(exc)
            metrics.record_error(category, model, provider, type(exc).__name__, "chat")


class CostMetricsPlugin(Plugin, name="cost_metrics", priority=1053):
    """`mellea.llm.cost.usd`: each request's cost, from the price table (`pricing`)."""

    @hook("generation_post_call", mode=AUDIT)
    async def record_cost_metrics(
        self, payload: GenerationPostCallPayload, context: dict[str, Any]
    ) -> None:
        usage = Usage.of(payload.model_output.generation.usage)
        model, provider = _who(payload)
        cost = await acompute_cost(
            model, provider, usage.input, usage.output, usage.cached, usage.cache_creation
        )
        if cost is not None:
            metrics.record_cost(cost, model, provider, "chat")

    @hook("generation_batch_post_call", mode=AUDIT)
    async def record_batch_cost_metrics(
        self, payload: GenerationBatchPostCallPayload, context: dict[str, Any]
    ) -> None:
        usage = Usage.of(payload.usage)
        model, provider = payload.model or "unknown", payload.provider or "unknown"
        cost = await acompute_cost(
            model, provider, usage.input, usage.output, usage.cached, usage.cache_creation
        )
        if cost is not None:
            metrics.record_cost(cost, model, provider, "text_completion")


class SamplingMetricsPlugin(Plugin, name="sampling_metrics", priority=1054):
    """Attempts, successes and failures of sampling loops (and `stream()` runs) per strategy."""

    @hook("sampling_iteration", mode=AUDIT)
    async def record_sampling_attempt(
        self, payload: SamplingIterationPayload, context: dict[str, Any]
    ) -> None:
        metrics.record_sampling_attempt(payload.strategy_name or "unknown")

    @hook("sampling_loop_end", mode=AUDIT)
    async def record_sampling_outcome(
        self, payload: SamplingLoopEndPayload, context: dict[str, Any]
    ) -> None:
        metrics.record_sampling_outcome(payload.strategy_name or "unknown", payload.success)

    @hook("streaming_end", mode=AUDIT)
    async def record_streaming_outcome(
        self, payload: StreamingEndPayload, context: dict[str, Any]
    ) -> None:
        metrics.record_sampling_outcome("stream", payload.success)


def _failure_reason(result: Any) -> str:
    return clip(getattr(result, "reason", None) or "unknown", REASON_LIMIT) or "unknown"


class RequirementMetricsPlugin(Plugin, name="requirement_metrics", priority=1055):
    """Checks and failures per requirement class."""

    @hook("validation_post_check", mode=AUDIT)
    async def record_requirement_metrics(
        self, payload: ValidationPostCheckPayload, context: dict[str, Any]
    ) -> None:
        for requirement, result in zip(payload.requirements, payload.results, strict=False):
            kind = class_name(requirement) or "unknown"
            metrics.record_requirement_check(kind)
            if not bool(result):
                metrics.record_requirement_failure(kind, _failure_reason(result))

    @hook("streaming_event", mode=AUDIT)
    async def record_streaming_requirement_metrics(
        self, payload: StreamingEventPayload, context: dict[str, Any]
    ) -> None:
        # The final validation of a stream; per-chunk quick checks are not counted.
        event = payload.event
        if type(event).__name__ != "FullValidationEvent":
            return
        for requirement, result in zip(payload.requirements, event.results, strict=False):
            kind = class_name(requirement) or "unknown"
            metrics.record_requirement_check(kind)
            if not bool(result):
                metrics.record_requirement_failure(kind, _failure_reason(result))


class ToolMetricsPlugin(Plugin, name="tool_metrics", priority=1056):
    """`mellea.tool.calls` by tool name and status."""

    @hook("tool_post_invoke", mode=AUDIT)
    async def record_tool_call(
        self, payload: ToolPostInvokePayload, context: dict[str, Any]
    ) -> None:
        name = getattr(payload.model_tool_call, "name", None) or "unknown"
        metrics.record_tool_call(str(name), "success" if payload.success else "failure")


class AdapterFunctionMetricsPlugin(Plugin, name="adapter_function_metrics", priority=1057):
    """Adapter-function invocations and phase durations (adapters are not in this release)."""

    @hook("adapter_function_invocation_complete", mode=AUDIT)
    async def record_adapter_function_invocation(
        self, payload: AdapterFunctionInvocationCompletePayload, context: dict[str, Any]
    ) -> None:
        metrics.record_adapter_function_invocation(
            payload.name, payload.revision, payload.binding_type, payload.adapter_type,
            payload.outcome,
        )  # fmt: skip
        if payload.outcome == "schema_error":
            metrics.record_adapter_function_parse_failure(payload.name, payload.revision)

    @hook("adapter_function_phase_complete", mode=AUDIT)
    async def record_adapter_function_phase(
        self, payload: AdapterFunctionPhaseCompletePayload, context: dict[str, Any]
    ) -> None:
        metrics.record_adapter_function_phase_duration(
            payload.name, payload.phase, payload.duration_ms / 1000
        )


METRICS_PLUGINS = (
    TokenMetricsPlugin,
    LatencyMetricsPlugin,
    ErrorMetricsPlugin,
    CostMetricsPlugin,
    SamplingMetricsPlugin,
    RequirementMetricsPlugin,
    ToolMetricsPlugin,
    AdapterFunctionMetricsPlugin,
)
"""Registered, one instance each, when metrics are on."""
