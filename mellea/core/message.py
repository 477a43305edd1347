"""`Message`: one chat message (role + content)."""

from __future__ import annotations

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
    """The result of a tool call, sent back to the model."""

    def __init__(self, content: str, *, name: str, tool_call_id: str | None = None) -> None:
        super().__init__("tool", content)
        self.name = name
        self.tool_call_id = tool_call_id

    def __repr__(self) -> str:
        return f"ToolMessage({self.name!r}, {self.content!r})"
