"""Tool-call payloads: running a tool the model asked for (`mellea.stdlib.tool_calling`).

`tool_invocation_id` (= `call_id`) identifies one call; `parent` is the scope it was made
in. Hooks run in the caller's context, before and after the tool runs.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from ._base import MelleaBasePayload, fields_for
from ._scope import enter_scope, leave_scope

__all__ = ["INTERNAL_TOOLS", "ToolPostInvokePayload", "ToolPreInvokePayload", "around"]


class ToolPreInvokePayload(MelleaBasePayload):
    """`tool_pre_invoke`: before a tool runs.

    `model_tool_call` (writable) — a `ModelToolCall`: `name`, `args`, `func`, `call_id`;
    `is_control_flow` — True for framework tools such as ReAct's `final_answer`.
    Blocking here makes the call's `ToolMessage` an error the model reads (the tool does
    not run) and raises nothing, like any failed tool call; `ToolErrorMessage.error` is
    the `PluginViolationError`.
    """

    tool_invocation_id: str = ""
    model_tool_call: Any = None
    is_control_flow: bool = False


class ToolPostInvokePayload(MelleaBasePayload):
    """`tool_post_invoke`: the tool returned or failed.

    `tool_output` (writable) — what it returned; `tool_message` — the `ToolMessage` for
    the model; `execution_time_ms`; `success`; `error` — the exception, if it failed.
    """

    tool_invocation_id: str = ""
    model_tool_call: Any = None
    tool_output: Any = None
    tool_message: Any = None
    execution_time_ms: int = 0
    success: bool = True
    error: Any = None
    is_control_flow: bool = False


# ----- firing (called by `mellea.stdlib.tool_calling` while a plugin is registered) -------

PRE, POST = "tool_pre_invoke", "tool_post_invoke"
INTERNAL_TOOLS: frozenset[str] = frozenset({"final_answer"})
"""mellea's own control-flow tools (flagged `is_control_flow` on tool payloads)."""


async def around(
    call: Any,
    run: Callable[[Any], Awaitable[Any]],
    refuse: Callable[[Any, BaseException], Any],
    render: Callable[[Any], str],
) -> Any:
    """Run one tool call (`run(call)` returns its `ToolMessage`) inside its hook points.

    The call gets a `"tool"` scope, and runs inside `hooks.running` (an observer's
    context: a tracer makes the call's span current there, in the tool's thread too). `tool_pre_invoke` may replace the `ModelToolCall`,
    or block: then the tool does not run and `refuse(call, violation)` is the message
    (an error the model reads, as for any failed call). `tool_post_invoke` may replace
    the output; the message's text is then `render(new_output)`.
    """
    from .. import hooks
    from ..errors import PluginViolationError
    from ..message import ToolMessage

    own, token = enter_scope("tool", label=str(getattr(call, "name", "")))
    try:
        control = getattr(call, "name", None) in INTERNAL_TOOLS
        if hooks.on(PRE):
            try:
                pre = await hooks.dispatch(
                    PRE,
                    ToolPreInvokePayload(
                        **fields_for(own, PRE),
                        tool_invocation_id=own.id,
                        model_tool_call=call,
                        is_control_flow=control,
                    ),
                )
            except PluginViolationError as exc:
                return refuse(call, exc)
            call = pre.model_tool_call
        started = time.perf_counter()
        with hooks.running(own.id):  # the tool's own code runs under the call's span
            message = await run(call)
        if not hooks.on(POST):
            return message
        error = getattr(message, "error", None)
        output = getattr(message, "_tool_output", None)
        post = await hooks.dispatch(
            POST,
            ToolPostInvokePayload(
                **fields_for(own, POST),
                tool_invocation_id=own.id,
                model_tool_call=call,
                tool_output=output,
                tool_message=message,
                execution_time_ms=int((time.perf_counter() - started) * 1000),
                success=error is None,
                error=error,
                is_control_flow=control,
            ),
        )
        if post.tool_output is not output and error is None:
            message = ToolMessage(
                "tool", render(post.tool_output), post.tool_output, message.name,
                message.arguments, message._tool, tool_call_id=message.tool_call_id,
            )  # fmt: skip
        return message
    finally:
        leave_scope(token)
