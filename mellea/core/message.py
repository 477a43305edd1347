"""`Message`: one chat message (role + content)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from .base import Component
from .thunk import ModelOutputThunk, ModelToolCall

Role = Literal["system", "user", "assistant", "tool"]
_ROLES = ("system", "user", "assistant", "tool")


class Message(Component["Message"]):
    """A chat message. `str(message)` is its content."""

    def __init__(
        self,
        role: Role,
        content: str,
        *,
        images: list[Any] | None = None,
        tool_calls: dict[str, ModelToolCall] | None = None,
    ) -> None:
        if role not in _ROLES:
            raise ValueError(f"message role must be one of {_ROLES}, got {role!r}")
        if not isinstance(content, str):
            raise TypeError(f"message content must be a str, got {type(content).__name__}")
        self.role: Role = role
        self.content = content
        self.images = images
        self.tool_calls = tool_calls

    def format_for_llm(self) -> str:
        return self.content

    def _parse(self, computed: ModelOutputThunk[Any]) -> Message:
        return Message("assistant", computed.value or "", tool_calls=computed.tool_calls)

    def __str__(self) -> str:
        return self.content

    def __repr__(self) -> str:
        return f"Message({self.role!r}, {self.content!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and (self.role, self.content) == (
            other.role,
            other.content,
        )

    __hash__ = Component.__hash__


class ToolMessage(Message):
    """The result of a tool call, sent back to the model.

    `ToolMessage(content, name=..., tool_call_id=...)`, or positionally as in Mellea's docs:
    `ToolMessage("tool", content, tool_output, name, args, tool)`. Attributes: `name`,
    `content` (the text the model sees), `_tool_output` (the raw Python result),
    `arguments` (what the tool was called with), `_tool` (the `ModelToolCall`), and
    `tool_call_id` (ties the result to the call, for APIs that need it).
    """

    def __init__(
        self,
        content_or_role: str,
        content: str | None = None,
        tool_output: Any = None,
        name: str | None = None,
        args: Mapping[str, Any] | None = None,
        tool: ModelToolCall | None = None,
        *,
        tool_call_id: str | None = None,
    ) -> None:
        if content is None:
            text = content_or_role
        elif content_or_role != "tool":
            raise ValueError(f"a ToolMessage has role 'tool', got {content_or_role!r}")
        else:
            text = content
        name = name if name is not None else (tool.name if tool is not None else None)
        if not name:
            raise ValueError("a ToolMessage needs the tool's name")
        super().__init__("tool", text)
        self.name = name
        self._tool_output = tool_output
        self.arguments: dict[str, Any] = dict(
            args if args is not None else (tool.args if tool is not None else {})
        )
        self._tool = tool
        self.tool_call_id = tool_call_id or (tool.call_id if tool is not None else None)

    def __repr__(self) -> str:
        return f"ToolMessage({self.name!r}, {self.content!r})"
