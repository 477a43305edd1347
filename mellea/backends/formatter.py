"""Turning history + action into chat messages (the OpenAI-style list every engine takes)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from ..core.base import CBlock, Component, TemplateRepresentation
from ..core.message import Message, ToolMessage
from ..core.thunk import ModelOutputThunk

ChatMessage = dict[str, Any]


def render_template(rep: TemplateRepresentation) -> str:
    """Text of a `TemplateRepresentation` (inline Jinja2 template, else its args)."""
    if rep.template is not None:
        from ..formatters.templating import render

        return render(rep.template, rep.args)
    lines = []
    for key, value in rep.args.items():
        text = value if isinstance(value, str) else str(value)
        lines.append(f"{key}: {text}" if len(rep.args) > 1 else text)
    return "\n".join(lines)


def component_text(item: Component[Any] | CBlock) -> str:
    """The text a component or block contributes to a prompt."""
    if isinstance(item, CBlock):
        return item.value or ""
    formatted = item.format_for_llm()
    return formatted if isinstance(formatted, str) else render_template(formatted)


def _tool_calls_wire(mot: ModelOutputThunk[Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": call.call_id or f"call_{i}",
            "type": "function",
            "function": {"name": call.name, "arguments": json.dumps(call.args)},
        }
        for i, call in enumerate((mot.tool_calls or {}).values())
    ]


def to_message(item: Component[Any] | CBlock) -> ChatMessage:
    """One history item or action as a chat message."""
    if isinstance(item, ModelOutputThunk):
        msg: ChatMessage = {"role": "assistant", "content": item.value or ""}
        if item.tool_calls:
            msg["tool_calls"] = _tool_calls_wire(item)
        return msg
    if isinstance(item, ToolMessage):
        msg = {"role": "tool", "content": item.content, "name": item.name}
        if item.tool_call_id:
            msg["tool_call_id"] = item.tool_call_id
        return msg
    if isinstance(item, Message):
        msg = {"role": item.role, "content": item.text()}
        if item.images:
            msg["images"] = list(item.images)
        if item.tool_calls:
            msg["tool_calls"] = list(item.tool_calls)
        if item.role == "tool":
            if item.tool_name:
                msg["name"] = item.tool_name
            if item.tool_call_id:
                msg["tool_call_id"] = item.tool_call_id
        return msg
    return {"role": "user", "content": component_text(item)}


def to_chat_messages(
    history: Iterable[Component[Any] | CBlock],
    action: Component[Any] | CBlock | None,
    system_prompt: str | None = None,
) -> list[ChatMessage]:
    """System prompt (if any), then the history, then the action."""
    messages: list[ChatMessage] = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    messages.extend(to_message(item) for item in history)
    if action is not None:
        messages.append(to_message(action))
    return messages


def iter_thunk_inputs(
    item: Component[Any] | CBlock, depth: int = 0
) -> Iterator[ModelOutputThunk[Any]]:
    """Thunks an item depends on (itself, or nested in its parts) — to wait for before rendering."""
    if isinstance(item, ModelOutputThunk):
        yield item
        return
    if isinstance(item, CBlock) or depth > 8:
        return
    for part in item.parts():
        yield from iter_thunk_inputs(part, depth + 1)


__all__ = [
    "ChatMessage",
    "component_text",
    "iter_thunk_inputs",
    "render_template",
    "to_chat_messages",
    "to_message",
]
