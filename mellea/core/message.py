"""`Message` (one chat message), `ToolMessage` (a tool's result) and `Document`.

The public paths are `mellea.stdlib.components.chat` and `mellea.stdlib.components.docs`;
they live here because the backends' formatter, below `stdlib`, renders them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Literal, cast

from ._blocks import CBlock, Component, TemplateRepresentation
from .generation import ModelToolCall
from .thunk import ModelOutputThunk

MessageRole = Literal["system", "user", "assistant", "tool"]
Role = MessageRole
_ROLES = ("system", "user", "assistant", "tool")


class Document(Component[str]):
    """A plain-text reference document (text plus an optional title and id)."""

    def __init__(self, text: str, title: str | None = None, doc_id: str | None = None) -> None:
        if not isinstance(text, str):
            raise TypeError(f"a Document's text must be a str, got {type(text).__name__}")
        self.text = text
        self.title = title
        self.doc_id = doc_id

    def parts(self) -> list[Component[Any] | CBlock]:
        return []

    def format_for_llm(self) -> TemplateRepresentation:
        return TemplateRepresentation(
            obj=self,
            args={"text": self.text, "title": self.title, "doc_id": self.doc_id},
            template=(
                "[Document{% if doc_id %} {{ doc_id }}{% endif %}]\n"
                "{% if title %}{{ title }}: {% endif %}{{ text }}"
            ),
        )

    def render(self) -> str:
        """The document as a model sees it: `[Document id]` then `title: text`."""
        head = f"[Document {self.doc_id}]" if self.doc_id else "[Document]"
        body = f"{self.title}: {self.text}" if self.title else self.text
        return f"{head}\n{body}"

    def __repr__(self) -> str:
        return f"Document({self.text[:40]!r}, title={self.title!r}, doc_id={self.doc_id!r})"


def tool_calls_as_dicts(calls: Mapping[str, ModelToolCall]) -> list[dict[str, Any]]:
    """Tool calls in the OpenAI chat-completions shape (`id`, `type`, `function`)."""
    return [
        {
            "id": call.call_id or f"call_{i}",
            "type": "function",
            "function": {"name": call.name, "arguments": json.dumps(call.args)},
        }
        for i, call in enumerate(calls.values())
    ]


class Message(Component["Message"]):
    """A chat message. `str(message)` is its content.

    Besides role and content it can carry images and audio, documents (rendered after the
    content), the tool calls an assistant turn made (OpenAI shape), and for a `tool` turn the
    call id and tool name it answers.
    """

    Role: ClassVar[Any] = MessageRole
    """The allowed roles: "system", "user", "assistant", "tool"."""

    def __init__(
        self,
        role: MessageRole,
        content: str,
        *,
        images: list[Any] | None = None,
        audio: list[Any] | None = None,
        documents: Iterable[str | Document] | None = None,
        tool_calls: list[dict[str, Any]] | Mapping[str, ModelToolCall] | None = None,
        tool_call_id: str | None = None,
        tool_name: str | None = None,
        thinking: str | None = None,
        provider_fields: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        if role not in _ROLES:
            raise ValueError(f"message role must be one of {_ROLES}, got {role!r}")
        if not isinstance(content, str):
            raise TypeError(f"message content must be a str, got {type(content).__name__}")
        self.role: MessageRole = role
        self.content = content
        self._images = images
        self._audio = audio
        self._docs: list[Document] = (
            [d if isinstance(d, Document) else Document(d) for d in documents] if documents else []
        )
        if tool_calls is not None and isinstance(tool_calls, Mapping):  # a reply's ModelToolCalls
            tool_calls = tool_calls_as_dicts(tool_calls)
        self._tool_calls: list[dict[str, Any]] | None = tool_calls or None
        self._tool_call_id = tool_call_id
        self._tool_name = tool_name
        self.thinking = thinking
        self._provider_fields = provider_fields

    @property
    def images(self) -> list[Any] | None:
        """The images sent with this message."""
        return self._images

    @property
    def audio(self) -> list[Any] | None:
        """The audio clips sent with this message."""
        return self._audio

    @property
    def documents(self) -> list[Document]:
        """The documents attached to this message (sent after its content)."""
        return list(self._docs)

    @property
    def tool_calls(self) -> list[dict[str, Any]] | None:
        """The tool calls this (assistant) turn made, in the OpenAI chat shape."""
        return self._tool_calls

    @property
    def tool_call_id(self) -> str | None:
        """For a `tool` message: the id of the call it answers."""
        return self._tool_call_id

    @property
    def tool_name(self) -> str | None:
        """For a `tool` message: the name of the tool whose result it carries."""
        return self._tool_name

    @property
    def provider_fields(self) -> dict[str, dict[str, Any]] | None:
        """Extra wire fields by provider (`"*"`: any), for fields mellea does not model."""
        return self._provider_fields

    def parts(self) -> list[Component[Any] | CBlock]:
        return [CBlock(self.content), *self._docs, *(self.images or []), *(self.audio or [])]

    def text(self) -> str:
        """The text a model is sent: the content, then any documents."""
        if not self._docs:
            return self.content
        return "\n\n".join([self.content, *(d.render() for d in self._docs)])

    def format_for_llm(self) -> str:
        return self.text()

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

    `ToolMessage("tool", content, tool_output, name, args, tool)` as in Mellea's docs, or the
    short form `ToolMessage(content, name=..., tool_call_id=...)`. Attributes: `name`,
    `content` (the text the model sees), `_tool_output` (the raw Python result),
    `arguments` (what the tool was called with), `_tool` (the `ModelToolCall`), and
    `tool_call_id` (ties the result to the call, for APIs that need it).
    """

    def __init__(
        self,
        role: str,
        content: str | None = None,
        tool_output: Any = None,
        name: str | None = None,
        args: Mapping[str, Any] | None = None,
        tool: ModelToolCall | None = None,
        *,
        tool_call_id: str | None = None,
    ) -> None:
        if content is None:  # the short form: the first argument is the content
            text = role
        elif role != "tool":
            raise ValueError(f"a ToolMessage has role 'tool', got {role!r}")
        else:
            text = content
        name = name if name is not None else (tool.name if tool is not None else None)
        if not name:
            raise ValueError("a ToolMessage needs the tool's name")
        call_id = tool_call_id or (tool.call_id if tool is not None else None)
        super().__init__("tool", text, tool_call_id=call_id, tool_name=name)
        self.name = name
        self._tool_output = tool_output
        self.arguments: dict[str, Any] = dict(
            args if args is not None else (tool.args if tool is not None else {})
        )
        self._tool = tool

    def __repr__(self) -> str:
        return f"ToolMessage({self.name!r}, {self.content!r})"


def message_from_template_representation(
    tr: TemplateRepresentation, *, default_role: MessageRole, content: str
) -> Message:
    """The `Message` a component with representation `tr` is sent as.

    `tr.role` (when set) beats `default_role`; an unknown role raises `ValueError`. Images,
    audio, thinking, tool calls and provider fields travel along; a `tool` message also
    keeps its call id and tool name.
    """
    role = cast(MessageRole, tr.role or default_role)
    is_tool = role == "tool"
    return Message(
        role,
        content,
        images=tr.images,
        audio=tr.audio,
        tool_calls=tr.tool_calls,
        tool_call_id=tr.tool_call_id if is_tool else None,
        tool_name=tr.tool_name if is_tool else None,
        thinking=tr.thinking,
        provider_fields=tr.provider_fields,
    )
