"""History + action as OpenAI-style chat message dicts: what every engine here takes.

A `ChatFormatter` turns each item into a `Message`; `message_to_wire` turns a `Message`
into `{"role", "content", ...}` (images and audio stay as their blocks, and `thinking` and
`provider_fields` as given: each backend puts them on its own wire; tool calls in the
chat-completions shape; a tool result carries `name` and `tool_call_id`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ..core.backend import generate_walk
from ..core.base import CBlock, Component, TemplateRepresentation
from ..core.message import Message
from ..core.thunk import ModelOutputThunk
from .chat_formatter import DEFAULT_FORMATTER, ChatFormatter

ChatMessage = dict[str, Any]


def message_to_wire(message: Message) -> ChatMessage:
    """One `Message` as a chat message dict."""
    wire: ChatMessage = {"role": message.role, "content": message.text()}
    if message.images:
        wire["images"] = list(message.images)
    if message.audio:
        wire["audio"] = list(message.audio)
    if message.tool_calls:
        wire["tool_calls"] = list(message.tool_calls)
    if message.thinking:  # each wire decides whether to replay it
        wire["thinking"] = message.thinking
    if message.provider_fields:  # merged in by the backend of the provider they target
        wire["provider_fields"] = message.provider_fields
    if message.role == "tool":
        if message.tool_name:
            wire["name"] = message.tool_name
        if message.tool_call_id:
            wire["tool_call_id"] = message.tool_call_id
    return wire


def to_message(
    item: Component[Any] | CBlock, formatter: ChatFormatter | None = None
) -> ChatMessage:
    """One history item or action as a chat message dict."""
    return message_to_wire((formatter or DEFAULT_FORMATTER).to_message(item))


def to_chat_messages(
    history: Iterable[Component[Any] | CBlock],
    action: Component[Any] | CBlock | None,
    system_prompt: str | None = None,
    formatter: ChatFormatter | None = None,
) -> list[ChatMessage]:
    """System prompt (if any), then the history, then the action."""
    fmt = formatter or DEFAULT_FORMATTER
    messages: list[ChatMessage] = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    messages.extend(message_to_wire(fmt.to_message(item)) for item in history)
    if action is not None:
        messages.append(message_to_wire(fmt.to_message(action)))
    return messages


def component_text(item: Component[Any] | CBlock) -> str:
    """The text a component or block contributes to a prompt (`ChatFormatter.print`)."""
    return DEFAULT_FORMATTER.print(item)


def render_template(rep: TemplateRepresentation) -> str:
    """The text of a `TemplateRepresentation` (its inline template, else its arguments)."""
    return DEFAULT_FORMATTER.render_representation(rep)


def iter_thunk_inputs(item: Component[Any] | CBlock) -> Iterator[ModelOutputThunk[Any]]:
    """The unfinished thunks `item` depends on (to wait for before rendering it)."""
    yield from generate_walk(item)


__all__ = [
    "ChatMessage",
    "component_text",
    "iter_thunk_inputs",
    "message_to_wire",
    "render_template",
    "to_chat_messages",
    "to_message",
]
