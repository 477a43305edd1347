"""Chat messages in the OpenAI chat-completions shape (images and audio as content parts).

`openai_message` converts one message dict as the formatter produces it (images and audio
still as blocks) into what the wire takes: `image_url` parts (a data URI for inline PNG,
the URL itself for an `ImageUrlBlock`), `input_audio` parts (base64 + format; audio by
URL is downloaded first, as no provider takes it by URL), tool results without `name`,
an assistant turn's `reasoning_content` when it is replayed, and the message's
`provider_fields` for this provider. `message_to_openai_message` does the same from a
`Message`; `prefetch_audio_urls` downloads audio URLs off the event loop beforehand.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..core.errors import InvalidOptionError
from ..core.media import AudioBlock, AudioUrlBlock, ImageBlock, ImageUrlBlock
from ..formatters.wire import ChatMessage, message_to_wire

if TYPE_CHECKING:
    from ..core.formatter import Formatter
    from ..core.message import Message

logger = logging.getLogger("mellea")

OPENAI_COMPATIBLE_WIRE_PROVIDERS = frozenset({"openai", "litellm", "watsonx", "huggingface"})
"""Providers whose wire is OpenAI's: a message's `"openai"` provider fields apply to them."""


def merge_provider_fields(
    base: dict[str, Any], provider_fields: dict[str, dict[str, Any]] | None, provider: str
) -> dict[str, Any]:
    """`base` (a wire message) plus the fields `provider_fields` declares for `provider`.

    A key applies when it is `"*"`, is `provider`, or is `"openai"` and `provider` speaks
    the OpenAI wire. Fields mellea set in `base` win (a colliding one is logged at debug);
    merged values are deep copies. Raises `InvalidOptionError` (a `ValueError`) when fields
    are declared only for other providers (the message was meant for another backend),
    `TypeError` when
    `provider_fields` is not a dict of dicts.
    """
    if not provider_fields:
        return base
    if not isinstance(provider_fields, Mapping) or not all(
        isinstance(v, Mapping) for v in provider_fields.values()
    ):
        raise TypeError("provider_fields must map a provider name to a dict of fields")
    matching = [
        key
        for key in provider_fields
        if key in ("*", provider)
        or (key == "openai" and provider in OPENAI_COMPATIBLE_WIRE_PROVIDERS)
    ]
    if not matching:
        raise InvalidOptionError(
            f"provider_fields targets {sorted(provider_fields)} but this request goes to "
            f"{provider!r}: add a '*' key for fields valid everywhere, or target {provider!r}"
        )
    for key in matching:
        for name, value in provider_fields[key].items():
            if name in base:
                logger.debug("provider field %r (%s) not sent: mellea sets it", name, key)
                continue
            base[name] = copy.deepcopy(value)
    return base


def should_replay_reasoning(messages: Sequence[Any], provider: str | None) -> list[bool]:
    """Per message: send its reasoning back? Only for an assistant turn that made tool calls
    (providers want the reasoning that led to a call; a plain answer's is dropped)."""
    return [
        getattr(m, "role", None) == "assistant"
        and bool(getattr(m, "thinking", None))
        and bool(getattr(m, "tool_calls", None))
        for m in messages
    ]


def messages_to_docs(msgs: Sequence[Message]) -> list[dict[str, str]]:
    """The documents attached to `msgs`, as `{"text", "title"?, "doc_id"?}` dicts."""
    docs: list[dict[str, str]] = []
    for msg in msgs:
        for doc in getattr(msg, "documents", ()) or ():
            entry = {"text": doc.text}
            if doc.title:
                entry["title"] = doc.title
            if doc.doc_id:
                entry["doc_id"] = doc.doc_id
            docs.append(entry)
    return docs


async def prefetch_audio_urls(messages: Sequence[Message | ChatMessage]) -> None:
    """Download every `AudioUrlBlock` of `messages` on a worker thread (into the per-URL
    cache), so that converting them afterwards does not block. Raises `ValueError` when a
    download fails."""
    blocks = {
        id(block): block
        for m in messages
        for block in ((m.get("audio") if isinstance(m, dict) else m.audio) or ())
        if isinstance(block, AudioUrlBlock)
    }
    await asyncio.gather(*(b.aresolve_base64() for b in blocks.values()))


def _image_part(image: Any) -> dict[str, Any]:
    if isinstance(image, ImageUrlBlock):
        url = image.value or ""
    elif isinstance(image, ImageBlock):
        url = "data:image/png;base64," + image.base64
    elif isinstance(image, str):
        url = (
            image
            if image.startswith(("data:", "http://", "https://"))
            else ("data:image/png;base64," + image)
        )
    else:
        raise InvalidOptionError(
            f"an image must be an ImageBlock or ImageUrlBlock, not {image!r:.80}"
        )
    return {"type": "image_url", "image_url": {"url": url}}


def _audio_part(audio: Any, fetch: bool = True) -> dict[str, Any]:
    if isinstance(audio, AudioBlock):
        data, fmt = audio.base64, audio.format
    elif isinstance(audio, AudioUrlBlock) and not fetch:  # a description, not a request
        return {"type": "input_audio", "input_audio": {"url": audio.value, "format": audio.format}}
    elif isinstance(audio, AudioUrlBlock):
        data, fmt = audio.resolve_base64(), audio.format  # a cache hit after prefetching
    else:
        raise InvalidOptionError(f"audio must be an AudioBlock or AudioUrlBlock, not {audio!r:.80}")
    return {"type": "input_audio", "input_audio": {"data": data, "format": fmt}}


_NOT_ON_THE_WIRE = frozenset({"images", "audio", "thinking", "provider_fields"})
"""Formatter message keys that become content parts or provider fields, never sent as is."""


def openai_message(
    message: ChatMessage,
    *,
    provider: str = "openai",
    replay_reasoning: bool = False,
    fetch_media: bool = True,
) -> dict[str, Any]:
    """A formatter message dict in the chat-completions shape (see the module docstring).

    `fetch_media=False` leaves audio URLs as URLs (for describing a request without I/O).
    """
    out: dict[str, Any] = {}
    for k, v in message.items():  # (a loop: no comprehension function per message)
        if k not in _NOT_ON_THE_WIRE:
            out[k] = v
    if message.get("role") == "tool":
        out.pop("name", None)  # OpenAI's tool message has no `name`; strict servers refuse it
    images, audio = message.get("images") or (), message.get("audio") or ()
    if images or audio:
        out["content"] = [
            {"type": "text", "text": message.get("content") or ""},
            *(_image_part(i) for i in images),
            *(_audio_part(a, fetch_media) for a in audio),
        ]
    elif message.get("tool_calls") and not message.get("content"):
        out["content"] = None  # a tool-call-only turn
    thinking = message.get("thinking")
    if replay_reasoning and isinstance(thinking, str) and thinking:
        out["reasoning_content"] = thinking
    return merge_provider_fields(out, message.get("provider_fields"), provider)


def openai_messages(
    messages: Sequence[ChatMessage], provider: str = "openai", fetch_media: bool = True
) -> list[dict[str, Any]]:
    """Every message of a request, reasoning replayed where `should_replay_reasoning` says."""
    out = []
    for m in messages:  # (a loop: no comprehension functions and cells per request)
        replay = (
            m.get("role") == "assistant" and bool(m.get("thinking")) and bool(m.get("tool_calls"))
        )
        out.append(
            openai_message(m, provider=provider, replay_reasoning=replay, fetch_media=fetch_media)
        )
    return out


def message_to_openai_message(
    msg: Message,
    formatter: Formatter | None = None,
    *,
    replay_reasoning: bool = False,
    provider: str = "openai",
) -> dict[str, Any]:
    """A `Message` in the chat-completions shape.

    The content is `msg.content` as is, or with `formatter` the text it prints for the
    message (documents included). Images and audio become content parts; an audio URL is
    downloaded here (blocking: `await prefetch_audio_urls(...)` first on an event loop).
    """
    wire = message_to_wire(msg)
    wire["content"] = formatter.print(msg) if formatter is not None else msg.content
    return openai_message(wire, provider=provider, replay_reasoning=replay_reasoning)


__all__ = [
    "OPENAI_COMPATIBLE_WIRE_PROVIDERS",
    "merge_provider_fields",
    "message_to_openai_message",
    "messages_to_docs",
    "openai_message",
    "openai_messages",
    "prefetch_audio_urls",
    "should_replay_reasoning",
]
