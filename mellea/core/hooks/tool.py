"""Tool-call payloads: running a tool the model asked for (`mellea.stdlib.tool_calling`).

`tool_invocation_id` (= `call_id`) identifies one call; `parent` is the scope it was made
in. Hooks run in the caller's context, before and after the tool runs.
"""

from __future__ import annotations

from typing import Any

from ._base import MelleaBasePayload

__all__ = ["ToolPostInvokePayload", "ToolPreInvokePayload"]


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
