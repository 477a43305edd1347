"""OpenTelemetry metrics: mellea's instruments, and `create_*` for your own.

| instrument | type, unit | attributes |
|---|---|---|
| `gen_ai.client.token.usage` | histogram, `{token}` | provider, model, operation, `gen_ai.token.type` |
| `gen_ai.client.operation.duration` | histogram, `s` | + `gen_ai.request.stream`, `error.type` |
| `gen_ai.client.operation.time_to_first_chunk` | histogram, `s` | provider, model, operation |
| `gen_ai.client.operation.time_per_output_chunk` | histogram, `s` | (opt-in: `MELLEA_GENERATION_CHUNK_EVENTS`) |
| `mellea.llm.requests` | counter, `{request}` | as the duration |
| `mellea.llm.errors` | counter, `{error}` | + `mellea.error.category`, `error.type` |
| `mellea.llm.cost.usd` | counter, `USD` | provider, model, operation |
| `mellea.sampling.attempts` / `.successes` / `.failures` | counters | `strategy` |
| `mellea.requirement.checks` / `.failures` | counters | `requirement` (+ `reason`) |
| `mellea.tool.calls` | counter, `{call}` | `gen_ai.tool.name`, `status` |

The metrics plugins (`metrics_plugins`) call the `record_*` functions from the hook
points; you may call them too. Everything here is a no-op while metrics are off
(`MELLEA_METRICS_ENABLED`), so instruments from `create_counter` & co. can be used
unconditionally. Histogram buckets follow the GenAI semantic conventions (given as
advisory boundaries, so an application's own views still win).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from ..core import errors
from ._attrs import provider_name
from ._state import STATE

__all__ = [
    "classify_error",
    "create_counter",
    "create_histogram",
    "create_up_down_counter",
    "is_metrics_enabled",
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
]

TOKEN_BUCKETS = tuple(4.0**i for i in range(14))  # 1, 4, 16, ... 67108864
SECONDS_BUCKETS = tuple(0.01 * 2**i for i in range(14))  # 0.01 ... 81.92


class _NoOpInstrument:
    """What `create_*` returns while metrics are off: accepts every call, records nothing."""

    def add(self, amount: float, attributes: dict[str, Any] | None = None, **_: Any) -> None:
        """Ignored."""

    def record(self, amount: float, attributes: dict[str, Any] | None = None, **_: Any) -> None:
        """Ignored."""


_NOOP = _NoOpInstrument()


def is_metrics_enabled() -> bool:
    """True when mellea records metrics (`MELLEA_METRICS_ENABLED`, or `setup(...)`)."""
    return STATE.metrics


def create_counter(name: str, description: str = "", unit: str = "1") -> Any:
    """A monotonic counter on mellea's meter (`.add(n, attributes)`); a no-op while off."""
    meter = STATE.meter
    return meter.create_counter(name, unit=unit, description=description) if meter else _NOOP


def create_histogram(name: str, description: str = "", unit: str = "1") -> Any:
    """A histogram on mellea's meter (`.record(x, attributes)`); a no-op while off."""
    meter = STATE.meter
    return meter.create_histogram(name, unit=unit, description=description) if meter else _NOOP


def create_up_down_counter(name: str, description: str = "", unit: str = "1") -> Any:
    """A counter that may go down (`.add(-1)`); a no-op while off."""
    meter = STATE.meter
    if meter is None:
        return _NOOP
    return meter.create_up_down_counter(name, unit=unit, description=description)


@dataclass(frozen=True)
class Instruments:
    """mellea's own instruments, made once per meter (see `_setup`)."""

    tokens: Any
    duration: Any
    ttfb: Any
    chunk_time: Any
    requests: Any
    errors: Any
    cost: Any
    sampling_attempts: Any
    sampling_successes: Any
    sampling_failures: Any
    requirement_checks: Any
    requirement_failures: Any
    tool_calls: Any
    adapter_invocations: Any
    adapter_phase: Any
    adapter_parse_failures: Any

    @classmethod
    def on(cls, meter: Any) -> Instruments:
        def histogram(name: str, unit: str, text: str, buckets: tuple[float, ...]) -> Any:
            return meter.create_histogram(
                name, unit=unit, description=text,
                explicit_bucket_boundaries_advisory=list(buckets),
            )  # fmt: skip

        def counter(name: str, unit: str, text: str) -> Any:
            return meter.create_counter(name, unit=unit, description=text)

        return cls(
            tokens=histogram("gen_ai.client.token.usage", "{token}",
                             "Input and output tokens per request", TOKEN_BUCKETS),
            duration=histogram("gen_ai.client.operation.duration", "s",
                               "Request duration, from the call to the full response",
                               SECONDS_BUCKETS),
            ttfb=histogram("gen_ai.client.operation.time_to_first_chunk", "s",
                           "Time from the request to its first streamed chunk", SECONDS_BUCKETS),
            chunk_time=histogram("gen_ai.client.operation.time_per_output_chunk", "s",
                                 "Time between consecutive streamed chunks", SECONDS_BUCKETS),
            requests=counter("mellea.llm.requests", "{request}", "Requests to models"),
            errors=counter("mellea.llm.errors", "{error}", "Failed requests, by category"),
            cost=counter("mellea.llm.cost.usd", "USD", "Estimated request cost"),
            sampling_attempts=counter("mellea.sampling.attempts", "{attempt}",
                                      "Sampling attempts"),
            sampling_successes=counter("mellea.sampling.successes", "{sample}",
                                       "Sampling loops that produced a passing sample"),
            sampling_failures=counter("mellea.sampling.failures", "{failure}",
                                      "Sampling loops that ended without a passing sample"),
            requirement_checks=counter("mellea.requirement.checks", "{check}",
                                       "Requirement checks"),
            requirement_failures=counter("mellea.requirement.failures", "{failure}",
                                         "Requirement checks that failed"),
            tool_calls=counter("mellea.tool.calls", "{call}", "Tool calls, by tool and status"),
            adapter_invocations=counter("mellea.adapter_function.invocations", "{invocation}",
                                        "Adapter function invocations"),
            adapter_phase=histogram("mellea.adapter_function.phase_duration", "s",
                                    "Adapter function phase duration", SECONDS_BUCKETS),
            adapter_parse_failures=counter("mellea.adapter_function.parse_failures", "{failure}",
                                           "Adapter outputs that did not parse"),
        )  # fmt: skip


def _gen_ai(model: str, provider: str, operation: str) -> dict[str, Any]:
    return {
        "gen_ai.provider.name": provider_name(provider) or "unknown",
        "gen_ai.request.model": model,
        "gen_ai.operation.name": operation,
    }


def record_token_usage_metrics(
    input_tokens: int | None, output_tokens: int | None, model: str, provider: str, operation: str
) -> None:
    """Record a request's input and output tokens (`gen_ai.client.token.usage`)."""
    inst = STATE.instruments
    if inst is None:
        return
    tokens = inst.tokens
    attributes = _gen_ai(model, provider, operation)
    if input_tokens:
        tokens.record(input_tokens, {**attributes, "gen_ai.token.type": "input"})
    if output_tokens:
        tokens.record(output_tokens, {**attributes, "gen_ai.token.type": "output"})


def record_request_duration(
    duration_s: float,
    model: str,
    provider: str,
    operation: str,
    streaming: bool = False,
    exception_class: str | None = None,
) -> None:
    """Record one request: its duration (`gen_ai.client.operation.duration`) and count."""
    inst = STATE.instruments
    if inst is None or duration_s < 0:
        return
    attributes = {**_gen_ai(model, provider, operation), "gen_ai.request.stream": streaming}
    if exception_class is not None:
        attributes["error.type"] = exception_class
    inst.duration.record(duration_s, attributes)
    inst.requests.add(1, attributes)


def record_ttfb(ttfb_s: float, model: str, provider: str, operation: str) -> None:
    """Record a streamed request's time to first chunk."""
    inst = STATE.instruments
    if inst is not None and ttfb_s >= 0:
        inst.ttfb.record(ttfb_s, _gen_ai(model, provider, operation))


def record_time_per_output_chunk(time_s: float, model: str, provider: str, operation: str) -> None:
    """Record the time between two consecutive streamed chunks."""
    inst = STATE.instruments
    if inst is not None and time_s >= 0:
        inst.chunk_time.record(time_s, _gen_ai(model, provider, operation))


def classify_error(exc: BaseException) -> str:
    """The category of a failed request: `rate_limit`, `timeout`, `auth`,
    `content_policy`, `invalid_request`, `transport_error`, `server_error` or `unknown`.

    mellea's typed errors are read first (an HTTP status says the most), then other
    libraries' exceptions by their class names (no import of those libraries).
    """
    status = getattr(exc, "status_code", None)
    if isinstance(exc, errors.RateLimitedError) or status == 429:
        return "rate_limit"
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "timeout"
    if isinstance(status, int):
        body = str(getattr(exc, "body", "") or "").lower()
        if status in (401, 403):
            return "auth"
        if status == 408:
            return "timeout"
        if 400 <= status < 500:
            return "content_policy" if "content_policy" in body else "invalid_request"
        if status >= 500:
            return "server_error"
    if isinstance(exc, ConnectionError | errors.BackendProtocolError):
        return "transport_error"
    if isinstance(exc, errors.InvalidOptionError):
        return "invalid_request"
    name = type(exc).__name__.lower()
    if getattr(exc, "code", None) == "content_policy_violation" or (
        "content" in name and "policy" in name
    ):
        return "content_policy"
    for category, needles in (
        ("rate_limit", ("ratelimit", "rate_limit")),
        ("timeout", ("timeout",)),
        ("auth", ("auth", "permission", "unauthorized")),
        ("invalid_request", ("badrequest", "invalidrequest", "notfound")),
        ("transport_error", ("connection", "network", "transport")),
        ("server_error", ("server", "serviceunavailable")),
    ):
        if any(n in name for n in needles):
            return category
    return "unknown"


def record_error(
    error_type: str, model: str, provider: str, exception_class: str, operation: str
) -> None:
    """Count a failed request (`mellea.llm.errors`), with its category (`classify_error`)."""
    inst = STATE.instruments
    if inst is not None:
        inst.errors.add(1, {
            **_gen_ai(model, provider, operation),
            "mellea.error.category": error_type,
            "error.type": exception_class,
        })  # fmt: skip


def record_cost(cost: float, model: str, provider: str, operation: str) -> None:
    """Add a request's estimated cost in USD (`mellea.llm.cost.usd`)."""
    inst = STATE.instruments
    if inst is not None and cost >= 0:
        inst.cost.add(cost, _gen_ai(model, provider, operation))


def record_sampling_attempt(strategy: str) -> None:
    """Count one sampling attempt of `strategy`."""
    inst = STATE.instruments
    if inst is not None:
        inst.sampling_attempts.add(1, {"strategy": strategy})


def record_sampling_outcome(strategy: str, success: bool) -> None:
    """Count a sampling loop that ended with (`success`) or without a passing sample."""
    inst = STATE.instruments
    if inst is not None:
        counter = inst.sampling_successes if success else inst.sampling_failures
        counter.add(1, {"strategy": strategy})


def record_requirement_check(requirement: str) -> None:
    """Count one check of a requirement of class `requirement`."""
    inst = STATE.instruments
    if inst is not None:
        inst.requirement_checks.add(1, {"requirement": requirement})


def record_requirement_failure(requirement: str, reason: str) -> None:
    """Count one failed check, with its (short) reason."""
    inst = STATE.instruments
    if inst is not None:
        inst.requirement_failures.add(1, {"requirement": requirement, "reason": reason})


def record_tool_call(tool: str, status: str) -> None:
    """Count one tool call (`status`: `success` or `failure`)."""
    inst = STATE.instruments
    if inst is not None:
        inst.tool_calls.add(1, {"gen_ai.tool.name": tool, "status": status})


def record_adapter_function_invocation(
    name: str, revision: str | None, binding_type: str, adapter_type: str, outcome: str
) -> None:
    """Count one adapter-function invocation (adapters are not part of this release)."""
    inst = STATE.instruments
    if inst is not None:
        inst.adapter_invocations.add(1, {
            "mellea.adapter_function.name": name,
            "mellea.adapter_function.revision": revision or "",
            "mellea.adapter_function.binding_type": binding_type,
            "mellea.adapter_function.adapter_type": adapter_type,
            "mellea.adapter_function.outcome": outcome,
        })  # fmt: skip


def record_adapter_function_phase_duration(name: str, phase: str, duration_s: float) -> None:
    """Record how long one phase of an adapter function took."""
    inst = STATE.instruments
    if inst is not None and duration_s >= 0:
        inst.adapter_phase.record(duration_s, {
            "mellea.adapter_function.name": name, "mellea.adapter_function.phase": phase,
        })  # fmt: skip


def record_adapter_function_parse_failure(name: str, revision: str | None) -> None:
    """Count an adapter output that did not parse."""
    inst = STATE.instruments
    if inst is not None:
        inst.adapter_parse_failures.add(1, {
            "mellea.adapter_function.name": name,
            "mellea.adapter_function.revision": revision or "",
        })  # fmt: skip
