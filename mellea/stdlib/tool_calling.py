"""Running the tools a model asked for: `acall_tools` / `call_tools`.

`call_tools(result, backend)` executes every call in `result.tool_calls` and returns one
`ToolMessage` per call, in order; adding them to the context is up to you.

- Arguments are validated (and coerced) against the tool's parameters first.
- An `async def` tool is awaited; a sync tool runs in a worker thread
  (`asyncio.to_thread`), so a slow tool never stalls mellea's I/O loop.
- Nothing a tool call does wrong raises: invalid arguments, an unknown tool, or an
  exception inside the tool become a ToolMessage whose `content` starts with `"Error: "`
  and explains the problem to the model (so an agent loop can let it correct itself);
  such a message is a `ToolErrorMessage` whose `error` (and `_tool_output`) is the
  exception, for your code to inspect.
"""

from __future__ import annotations

import asyncio
import json
import logging
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..backends.tools import MelleaTool, normalize_tools, parse_tool_call, wrap_tool
from ..core import hooks
from ..core.base import AbstractMelleaTool
from ..core.errors import ToolArgumentsError
from ..core.message import ToolMessage
from ..core.thunk import ModelOutputThunk, ModelToolCall
from ..helpers.portal import run_sync

if TYPE_CHECKING:
    from ..core.backend import Backend

logger = logging.getLogger("mellea")


def tool_output_text(output: Any) -> str:
    """The text a tool's return value is shown to the model as (JSON for structured data)."""
    if isinstance(output, str):
        return output
    if hasattr(output, "model_dump_json"):  # a pydantic model
        return str(output.model_dump_json())
    if isinstance(output, dict | list | tuple | bool | int | float) or output is None:
        try:
            return json.dumps(output, default=str, ensure_ascii=False)
        except (TypeError, ValueError):
            pass
    return str(output)


def _resolve_tool(
    call: ModelToolCall, extra: Mapping[str, MelleaTool[..., Any]]
) -> MelleaTool[..., Any] | None:
    func = call.func
    if func is None:
        return extra.get(call.name)
    if isinstance(func, MelleaTool):
        return func
    if isinstance(func, AbstractMelleaTool):  # a user's own tool class: its run() is called
        return wrap_tool(func, call.name)
    try:
        return MelleaTool.from_callable(func, call.name)
    except (TypeError, ValueError):  # no introspectable signature: call it unchecked
        return MelleaTool(call.name, func)


class ToolErrorMessage(ToolMessage):
    """A tool call that could not be carried out: `content` explains it to the model,
    `error` (also `_tool_output`) is the exception."""

    def __init__(self, call: ModelToolCall, text: str, error: BaseException) -> None:
        super().__init__(
            "tool", f"Error: {text}", error, call.name, call.args, call, tool_call_id=call.call_id
        )
        self.error = error


def _error_message(call: ModelToolCall, text: str, error: BaseException) -> ToolMessage:
    return ToolErrorMessage(call, text, error)


async def acall_tool(
    call: ModelToolCall, tools: Mapping[str, MelleaTool[..., Any]] | None = None
) -> ToolMessage:
    """Run one tool call; never raises for the call's own problems (see module docs)."""
    if hooks.active:  # the tool hook points (mellea.core.hooks.tool)
        message: ToolMessage = await hooks.tool.around(
            call, lambda c: _acall_tool(c, tools),
            lambda c, exc: _error_message(c, f"the call was refused: {exc}", exc),
            tool_output_text,
        )  # fmt: skip
        return message
    return await _acall_tool(call, tools)


async def _acall_tool(
    call: ModelToolCall, tools: Mapping[str, MelleaTool[..., Any]] | None
) -> ToolMessage:
    tool = _resolve_tool(call, tools or {})
    if tool is None:
        known = f" (available: {', '.join(sorted(tools))})" if tools else ""
        error: Exception = LookupError(f"no tool named {call.name!r} was offered{known}")
        return _error_message(call, str(error), error)
    if "__raw_arguments__" in call.args:
        error = ToolArgumentsError(
            f"the arguments for tool {call.name!r} are not a JSON object: "
            f"{call.args['__raw_arguments__']!r:.200}",
            tool_name=call.name,
        )
        return _error_message(call, str(error), error)
    try:
        args = tool.validate_args(call.args)
    except ToolArgumentsError as exc:
        return _error_message(call, f"{exc}. Call the tool again with corrected arguments.", exc)
    try:
        output = await tool.arun(**args)
    except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        logger.info("mellea: tool %r raised", call.name, exc_info=True)
        return _error_message(call, f"tool {call.name!r} raised {type(exc).__name__}: {exc}", exc)
    return ToolMessage(
        "tool", tool_output_text(output), output, call.name, args, call, tool_call_id=call.call_id
    )


async def acall_tools(
    result: Any,
    backend: Backend | None = None,
    *,
    tools: Sequence[Any] | Mapping[str, Any] | None = None,
    concurrent: bool = False,
) -> list[ToolMessage]:
    """Execute the tool calls of `result` (a thunk, `Message`, or anything with
    `.tool_calls`); one `ToolMessage` per call, in the order the model made them.

    `backend` is accepted for API compatibility (hooks/telemetry use it in Mellea).
    `tools` resolves calls whose tool was not attached (e.g. a thunk rebuilt by hand).
    `concurrent=True` runs the calls of one reply at the same time (they are meant to be
    independent); the default runs them one after another.
    """
    if isinstance(result, ModelOutputThunk) and not result.is_computed():
        await result.avalue()
    found = getattr(result, "tool_calls", None) or {}
    calls = list(found.values()) if isinstance(found, Mapping) else [_wire_call(c) for c in found]
    extra = normalize_tools(tools)
    if concurrent:
        return list(await asyncio.gather(*(acall_tool(c, extra) for c in calls)))
    return [await acall_tool(c, extra) for c in calls]


def _wire_call(entry: Mapping[str, Any]) -> ModelToolCall:
    """A call in the OpenAI chat shape (what a `Message` keeps); its tool comes from `tools=`."""
    function = entry.get("function") or {}
    return parse_tool_call(function.get("name", ""), function.get("arguments"), {}, entry.get("id"))


def call_tools(
    result: Any,
    backend: Backend | None = None,
    *,
    tools: Sequence[Any] | Mapping[str, Any] | None = None,
    concurrent: bool = False,
) -> list[ToolMessage]:
    """Blocking `acall_tools`."""
    return run_sync(acall_tools(result, backend, tools=tools, concurrent=concurrent))


def _call_tools(result: Any, backend: Backend | None = None) -> list[ToolMessage]:
    """Deprecated name of `call_tools`."""
    warnings.warn("_call_tools is deprecated; use call_tools", DeprecationWarning, stacklevel=2)
    return call_tools(result, backend)


async def _acall_tools(result: Any, backend: Backend | None = None) -> list[ToolMessage]:
    """Deprecated name of `acall_tools`."""
    warnings.warn("_acall_tools is deprecated; use acall_tools", DeprecationWarning, stacklevel=2)
    return await acall_tools(result, backend)


__all__ = ["ToolErrorMessage", "acall_tool", "acall_tools", "call_tools", "tool_output_text"]
