"""The message types a `serve()` function receives from `m serve` (OpenAI chat format).

`ChatMessage.content` is a string, None, or a list of content parts: `TextContent`,
`ImageUrlContent` (an http(s) URL or a `data:` URI) and `InputAudioContent` — exactly as
the client sent them; `m serve` passes image and audio parts through untouched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from ..core.base import AudioBlock, ImageBlock, ImageUrlBlock


class TextContent(BaseModel):
    """A text part of a message: `{"type": "text", "text": "..."}`."""

    type: Literal["text"]
    text: str


class ImageUrlContent(BaseModel):
    """An image part: `{"type": "image_url", "image_url": {"url": ..., "detail": ...}}`."""

    type: Literal["image_url"]
    image_url: dict[str, str]


class InputAudioData(BaseModel):
    """Base64 audio `data` and its `format` (`"wav"`, `"mp3"`)."""

    data: str
    format: str


class InputAudioContent(BaseModel):
    """An audio part: `{"type": "input_audio", "input_audio": {"data": ..., "format": ...}}`."""

    type: Literal["input_audio"]
    input_audio: InputAudioData


MessageContent = TextContent | ImageUrlContent | InputAudioContent
"""One content part of a multimodal message."""


class ChatMessage(BaseModel):
    """One message of the conversation, as the OpenAI chat-completions API defines it.

    Fields the client sends beyond these (e.g. an assistant turn's `tool_calls`) are kept
    and readable as attributes (`message.model_extra`).
    """

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "tool", "function", "developer"]
    """OpenAI's newer clients send `developer` where older ones send `system`."""
    content: str | list[MessageContent] | None = None
    name: str | None = None
    tool_call_id: str | None = None
    function_call: dict[str, Any] | None = None

    def get_text_content(self) -> str:
        """The text of the message; the text parts joined by spaces for multimodal content."""
        if isinstance(self.content, str):
            return self.content
        if not self.content:
            return ""
        return " ".join(p.text for p in self.content if isinstance(p, TextContent))

    def get_image_urls(self) -> list[str]:
        """The URLs (or `data:` URIs) of the image parts, in order."""
        if not isinstance(self.content, list):
            return []
        urls = (p.image_url.get("url") for p in self.content if isinstance(p, ImageUrlContent))
        return [u for u in urls if u]

    def get_image_blocks(self) -> list[ImageBlock | ImageUrlBlock]:
        """The image parts as mellea blocks: `ImageBlock` for `data:` URIs, `ImageUrlBlock`
        for http(s) URLs. Raises ValueError for any other URL or undecodable data."""
        from ..core.base import ImageBlock, ImageUrlBlock

        blocks: list[ImageBlock | ImageUrlBlock] = []
        for url in self.get_image_urls():
            if url.startswith(("http://", "https://")):
                blocks.append(ImageUrlBlock(url))
            elif url.startswith("data:"):
                blocks.append(ImageBlock(url))
            else:
                raise ValueError(f"image URL must be http(s) or a data: URI, got {url[:80]!r}")
        return blocks

    def get_audio_blocks(self) -> list[AudioBlock]:
        """The audio parts as `AudioBlock`s (base64 data and format)."""
        from ..core.base import AudioBlock

        if not isinstance(self.content, list):
            return []
        return [
            AudioBlock(p.input_audio.data, p.input_audio.format)
            for p in self.content
            if isinstance(p, InputAudioContent)
        ]


__all__ = [
    "ChatMessage",
    "ImageUrlContent",
    "InputAudioContent",
    "InputAudioData",
    "MessageContent",
    "TextContent",
]
