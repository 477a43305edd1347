"""Component lifecycle payloads: one `aact` (instruct, chat, act, query, transform,
`@generative` calls), fired by `mellea.stdlib.functional`.

`action_id` (= `call_id`) identifies the call; the pre and post payloads share it, and
everything the call starts (sampling loop, generations, validations) has it in its
`parent` chain.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ._base import MelleaBasePayload

__all__ = ["ComponentPostErrorPayload", "ComponentPostSuccessPayload", "ComponentPreExecutePayload"]


class ComponentPreExecutePayload(MelleaBasePayload):
    """`component_pre_execute`: before a component runs — the main interception point.

    - `action_id`; `component_type` — the action's class name (`"Instruction"`,
      `"Message"`, `"GenerativeStub"`...); `action` — the component itself;
    - `context_view` — the context's items as a list (read-only view);
    - writable: `requirements`, `model_options`, `format` (a pydantic class or None),
      `strategy` (a `SamplingStrategy`, or None for one plain generation),
      `tool_calls_enabled`.

    Blocking here raises `PluginViolationError` from the call; nothing is sent.
    """

    action_id: str = ""
    component_type: str = ""
    action: Any = None
    context_view: list[Any] | None = None
    requirements: list[Any] = Field(default_factory=list)
    model_options: dict[str, Any] = Field(default_factory=dict)
    format: Any = None
    strategy: Any = None
    tool_calls_enabled: bool = False


class ComponentPostSuccessPayload(MelleaBasePayload):
    """`component_post_success`: the component's result is computed.

    Fires when the result's value is known — for a lazy call (`await m.ainstruct(...)`
    returns an uncomputed thunk) that is when its generation or sampling loop finishes,
    before anyone waiting on the thunk wakes up.

    - `result` — the computed thunk; `generate_log` — its `GenerateLog`;
    - `context_before` / `context_after` — the context given / returned;
    - `sampling_results` — every attempt's thunk when a strategy ran (else None), and
      `sampling_success` whether one passed;
    - `latency_ms` — from `component_pre_execute` to now.
    """

    action_id: str = ""
    component_type: str = ""
    action: Any = None
    result: Any = None
    context_before: Any = None
    context_after: Any = None
    generate_log: Any = None
    sampling_results: list[Any] | None = None
    sampling_success: bool | None = None
    latency_ms: int = 0


class ComponentPostErrorPayload(MelleaBasePayload):
    """`component_post_error`: the component failed (also a blocked or cancelled call).

    - `error` — the exception; `error_type` — its class name; `stack_trace` — formatted;
    - `context` — the context given; `model_options` — the call's options;
    - `latency_ms` — from `component_pre_execute` to the failure.
    """

    action_id: str = ""
    component_type: str = ""
    action: Any = None
    error: Any = None
    error_type: str = ""
    stack_trace: str = ""
    context: Any = None
    model_options: dict[str, Any] = Field(default_factory=dict)
    latency_ms: int = 0
