"""Component lifecycle payloads: one `aact` (instruct, chat, act, query, transform,
`@generative` calls), fired by `mellea.stdlib.functional`.

`action_id` (= `call_id`) identifies the call; the pre and post payloads share it, and
everything the call starts (sampling loop, generations, validations) has it in its
`parent` chain.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import Field

from ..._runtime.portal import get_portal
from ._base import MelleaBasePayload, fields_for
from ._scope import CallScope, enter_scope, leave_scope

__all__ = [
    "ComponentPostErrorPayload",
    "ComponentPostSuccessPayload",
    "ComponentPreExecutePayload",
    "around",
]


class ComponentPreExecutePayload(MelleaBasePayload):
    """`component_pre_execute`: before a component runs — the main interception point.

    - `action_id`; `component_type` — the action's class name (`"Instruction"`,
      `"Message"`, `"GenerativeStub"`...); `action` — the component itself;
    - `context_view` — the history the request would carry (`view_for_generation()`:
      empty for a `SimpleContext`);
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


# ----- firing (called by `mellea.stdlib.functional.aact` while a plugin is registered) -----

PRE, SUCCESS, ERROR = "component_pre_execute", "component_post_success", "component_post_error"


async def around(act: Callable[..., Awaitable[Any]], action: Any, context: Any, backend: Any,
                 **call: Any) -> Any:  # fmt: skip
    """Run `act(action, context, backend, **call)` (an `aact` call) inside its hook points.

    The call gets a `"component"` scope (everything it starts nests under it).
    `component_pre_execute` may change `requirements`, `model_options`, `format`,
    `strategy`, `tool_calls` or block (raising `PluginViolationError` before anything is
    sent). `component_post_success` / `component_post_error` fire when the result is
    known: at once for an awaited result, else when the returned thunk settles.
    """
    from .. import hooks

    own, token = enter_scope("component")
    started = time.perf_counter()
    try:
        if hooks.on(PRE):
            payload = await hooks.dispatch(
                PRE,
                ComponentPreExecutePayload(
                    **fields_for(own, PRE),
                    action_id=own.id,
                    component_type=type(action).__name__,
                    action=action,
                    context_view=context.view_for_generation(),
                    requirements=list(call.get("requirements") or []),
                    model_options=dict(call.get("model_options") or {}),
                    format=call.get("format"),
                    strategy=call.get("strategy"),
                    tool_calls_enabled=bool(call.get("tool_calls")),
                ),
                backend=backend,
            )
            call.update(
                requirements=payload.requirements, model_options=payload.model_options,
                format=payload.format, strategy=payload.strategy,
                tool_calls=payload.tool_calls_enabled,
            )  # fmt: skip
        with hooks.running(own.id):  # what it starts copies the observed context
            result, new_ctx = await act(action, context, backend, **call)
    except BaseException as exc:
        if isinstance(exc, Exception):
            await _error(hooks, own, action, exc, context, call, started, backend)
        raise
    finally:
        leave_scope(token)
    thunk = result if hasattr(result, "is_computed") else getattr(result, "result", None)
    if thunk is None or thunk.is_computed() or thunk.error is not None:
        await _settled(hooks, own, action, result, thunk, context, new_ctx, call, started, backend)
    elif hooks.on(SUCCESS) or hooks.on(ERROR):
        watch = _settled(hooks, own, action, result, thunk, context, new_ctx, call, started,
                         backend, wait=True)  # fmt: skip
        hooks.track(asyncio.run_coroutine_threadsafe(watch, get_portal().loop))
    return result, new_ctx


async def _settled(hooks: Any, own: CallScope, action: Any, result: Any, thunk: Any,
                   context: Any, new_ctx: Any, call: dict[str, Any], started: float,
                   backend: Any, *, wait: bool = False) -> None:  # fmt: skip
    if wait:
        await thunk._wait_quietly()
    if thunk is not None and thunk.error is not None:
        await _error(hooks, own, action, thunk.error, context, call, started, backend)
        return
    if not hooks.on(SUCCESS):
        return
    sampling = getattr(thunk, "sampling_result", None) if thunk is not None else None
    if sampling is None and not hasattr(result, "is_computed"):
        sampling = result  # return_sampling_results=True
    payload = ComponentPostSuccessPayload(
        **fields_for(own, SUCCESS), action_id=own.id, component_type=type(action).__name__,
        action=action, result=thunk, context_before=context, context_after=new_ctx,
        generate_log=getattr(thunk, "generate_log", None),
        sampling_results=list(sampling.sample_generations) if sampling is not None else None,
        sampling_success=sampling.success if sampling is not None else None,
        latency_ms=int((time.perf_counter() - started) * 1000),
    )  # fmt: skip
    await _quiet_dispatch(hooks, SUCCESS, payload, backend)


async def _error(hooks: Any, own: CallScope, action: Any, error: BaseException, context: Any,
                 call: dict[str, Any], started: float, backend: Any) -> None:  # fmt: skip
    if not hooks.on(ERROR):
        return
    payload = ComponentPostErrorPayload(
        **fields_for(own, ERROR), action_id=own.id, component_type=type(action).__name__,
        action=action, error=error, error_type=type(error).__name__,
        stack_trace="".join(traceback.format_exception(error)), context=context,
        model_options=dict(call.get("model_options") or {}),
        latency_ms=int((time.perf_counter() - started) * 1000),
    )  # fmt: skip
    await _quiet_dispatch(hooks, ERROR, payload, backend)


async def _quiet_dispatch(hooks: Any, hook_type: str, payload: Any, backend: Any) -> None:
    from ..errors import MelleaError

    try:
        await hooks.dispatch(hook_type, payload, backend=backend)
    except MelleaError:  # the component has run (or failed) already: a block changes nothing
        pass
