"""Helpers the reference's formatter-based backends share, under its path.

`to_chat` renders history + action into chat message dicts (what a chat template or a
chat API takes); `to_tool_calls` finds tool calls written as JSON in a model's text;
`get_value` and `populate_response_metadata_openai_shape` read OpenAI-shaped answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.base import CBlock, Component
from ..core.context import Context
from ..core.thunk import ModelToolCall
from ..formatters.chat_formatter import ChatFormatter
from ..formatters.wire import ChatMessage, to_chat_messages
from ._openai_response import get_value
from ._openai_response import populate_response_metadata as populate_response_metadata_openai_shape
from ._tool_args import validate_tool_arguments
from ._tool_text import parse_tools


def to_chat(
    action: Component[Any] | CBlock,
    ctx: Context,
    formatter: ChatFormatter | None,
    system_prompt: str | None,
) -> list[ChatMessage]:
    """The chat messages for generating `action` in `ctx`: `system_prompt` (if any), the
    context's view for generation, then the action; rendered by `formatter`."""
    history = ctx.view_for_generation() or []
    return to_chat_messages(history, action, system_prompt, formatter=formatter)


def to_tool_calls(tools: Mapping[str, Any], decoded_result: str) -> list[ModelToolCall] | None:
    """The calls of offered `tools` written as JSON in `decoded_result`, in order, their
    arguments checked (and coerced) against each tool's schema; None if there are none."""
    calls = []
    for name, args in parse_tools(decoded_result):
        tool = tools.get(name)
        if tool is None:
            continue
        checked = validate_tool_arguments(tool, args)
        calls.append(ModelToolCall(name, tool, checked))
    return calls or None


__all__ = ["get_value", "populate_response_metadata_openai_shape", "to_chat", "to_tool_calls"]
