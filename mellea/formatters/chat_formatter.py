"""`ChatFormatter`: components and history as chat `Message`s.

- `print(c)` — the text `c` contributes to a prompt: a block's value; a component's
  `format_for_llm()` string, or its `TemplateRepresentation` rendered (its inline
  template, else its arguments, one `name: value` line each).
- `to_chat_messages(items)` — one `Message` per history item: model outputs become
  assistant messages, messages stay as they are, any other component becomes a user
  message with its printed text (or the role and tool fields its representation asks
  for, with its images and audio).

Subclasses change how representations render (`TemplateFormatter` looks templates up in
files).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..core.base import CBlock, Component, TemplateRepresentation
from ..core.formatter import Formatter
from ..core.message import Message, message_from_template_representation
from ..core.thunk import ModelOutputThunk
from .templating import render


class ChatFormatter(Formatter):
    """Renders components as prompt text and histories as chat messages."""

    def print(self, c: Component[Any] | CBlock | str) -> str:
        """The text `c` contributes to a prompt."""
        if isinstance(c, str):
            return c
        if isinstance(c, CBlock):  # a block, or a model output (its text so far if unfinished)
            return c.value or ""
        formatted = c.format_for_llm()
        if isinstance(formatted, str):
            return formatted
        return self.render_representation(formatted, c)

    def render_representation(
        self, rep: TemplateRepresentation, component: Component[Any] | None = None
    ) -> str:
        """The text of a representation: its inline template, else its arguments."""
        stringify = self.stringify
        args = {}
        for key, value in rep.args.items():  # (a loop: no comprehension cell per call)
            args[key] = value if type(value) is str else stringify(value)
        if rep.template is not None:
            return render(rep.template, args)
        if len(args) == 1:
            return _text(next(iter(args.values())))
        return "\n".join(f"{key}: {_text(value)}" for key, value in args.items())

    def stringify(self, value: Any) -> Any:
        """A template argument made renderable: blocks and components become their text,
        lists and mappings are converted item by item, None becomes ""."""
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        if isinstance(value, CBlock | Component):
            return self.print(value)
        if isinstance(value, TemplateRepresentation):
            return self.render_representation(value)
        if isinstance(value, Mapping):
            return {k: self.stringify(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.stringify(v) for v in value]
        return value

    def to_message(self, c: Component[Any] | CBlock) -> Message:
        """One history item or action as a `Message`."""
        if isinstance(c, Message):
            return c
        if isinstance(c, ModelOutputThunk):
            if isinstance(c.parsed_repr, Message):
                return c.parsed_repr
            return Message("assistant", c.value or "", tool_calls=c.tool_calls, thinking=c.thinking)
        if isinstance(c, Component):
            formatted = c.format_for_llm()
            if isinstance(formatted, TemplateRepresentation):
                content = self.render_representation(formatted, c)
                return message_from_template_representation(
                    formatted, default_role="user", content=content
                )
            return Message("user", formatted)
        return Message("user", c.value or "")

    def to_chat_messages(self, cs: Sequence[Component[Any] | CBlock]) -> list[Message]:
        """Each item of a linear history as a `Message`, in order."""
        return [self.to_message(c) for c in cs]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


DEFAULT_FORMATTER = ChatFormatter()
"""The formatter backends use when none is given."""


__all__ = ["DEFAULT_FORMATTER", "ChatFormatter"]
