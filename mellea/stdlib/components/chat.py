"""Chat messages and a context's history as messages.

- `Message(role, content, *, images=, audio=, documents=, tool_calls=, ...)` and
  `ToolMessage` (a tool's result);
- `as_chat_history(ctx)` / `as_generic_chat_history(ctx, formatter=None)`: the history as
  a list of `Message`s, whatever it holds — messages stay as they are, model outputs
  become assistant messages, any other component (an `Instruction`, a `Document`, a
  custom component) becomes a user message with the text it renders to (or, with
  `formatter=`, the text that function gives);
- `message_from_template_representation(tr, default_role=..., content=...)`: the message a
  component asks to be sent as (its representation's role and tool fields).
"""

from __future__ import annotations

from collections.abc import Callable

from ...core.base import CBlock, Component, TemplateRepresentation
from ...core.context import Context, ContextItem
from ...core.message import Message, ToolMessage, message_from_template_representation
from ...core.thunk import ModelOutputThunk


def _rendered_text(item: object) -> str:
    from ...backends.formatter import component_text

    if isinstance(item, Component | CBlock):
        return component_text(item)
    return str(item)


def _as_message(item: ContextItem, formatter: Callable[[object], str] | None) -> Message:
    render = formatter if formatter is not None else _rendered_text
    if isinstance(item, Message):
        return item
    if isinstance(item, ModelOutputThunk):
        if isinstance(item.parsed_repr, Message):
            return item.parsed_repr
        if formatter is not None and item.parsed_repr is not None:
            text = formatter(item.parsed_repr)
        else:
            text = item.value or ""
        return Message("assistant", text, tool_calls=item.tool_calls)
    if isinstance(item, Component):
        formatted = item.format_for_llm()
        if isinstance(formatted, TemplateRepresentation):
            return message_from_template_representation(
                formatted, default_role="user", content=render(item)
            )
        return Message("user", formatted if formatter is None else formatter(item))
    if type(item) is CBlock or formatter is None:
        return Message("user", item.value or "")
    return Message("user", formatter(item))


def as_generic_chat_history(
    ctx: Context, formatter: Callable[[object], str] | None = None
) -> list[Message]:
    """The history of `ctx` as `Message`s, oldest first.

    Messages are kept as they are; model outputs become assistant messages (their parsed
    `Message` if they have one); other components and blocks become user messages with
    the text `formatter` gives (default: the text the component renders to for a model).
    """
    return [_as_message(item, formatter) for item in ctx.as_list()]


def as_chat_history(ctx: Context) -> list[Message]:
    """The history of `ctx` as `Message`s (instructions and other components rendered as
    user messages, model outputs as assistant messages)."""
    return as_generic_chat_history(ctx)


__all__ = [
    "Message",
    "ToolMessage",
    "as_chat_history",
    "as_generic_chat_history",
    "message_from_template_representation",
]
