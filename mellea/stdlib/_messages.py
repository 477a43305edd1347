"""The messages chat calls send, and their replies as messages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..core.base import CBlock
from ..core.message import Document, Message, MessageRole
from ..core.thunk import ModelOutputThunk
from .components.instruction import Instruction


def image_blocks(images: Sequence[Any] | None) -> list[Any] | None:
    """Images as blocks: PIL images are converted; blocks, URLs and base64 text pass as given."""
    if not images:
        return None
    from ..core.media import ImageBlock

    return [i if isinstance(i, str | CBlock) else ImageBlock.from_pil_image(i) for i in images]


def chat_message(
    content: str,
    role: MessageRole,
    images: Sequence[Any] | None,
    user_variables: Mapping[str, Any] | None,
    *,
    audio: Sequence[Any] | None = None,
    documents: Iterable[str | Document] | None = None,
) -> Message:
    """The `Message` a chat call sends (`{{name}}` placeholders filled from user_variables)."""
    if not isinstance(content, str):
        raise TypeError(f"chat() takes a str, got {type(content).__name__}")
    if user_variables:
        content = Instruction.apply_user_dict_from_jinja(user_variables, content)
    return Message(
        role, content, images=image_blocks(images), audio=list(audio or ()) or None,
        documents=documents,
    )  # fmt: skip


def reply_message(mot: ModelOutputThunk[Any]) -> Message:
    """The reply of a computed chat thunk as a `Message`."""
    reply = mot.parsed_repr
    if isinstance(reply, Message):
        return reply
    return Message("assistant", mot.value or "", tool_calls=mot.tool_calls)


__all__ = ["chat_message", "image_blocks", "reply_message"]
