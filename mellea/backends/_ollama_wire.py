"""Ollama's native API on the wire: request fields, messages, and the response objects.

Requests: `chat_payload` (`/api/chat`) and `generate_payload` (`/api/generate` with
`raw: true`, a plain completion). Responses (one object, or NDJSON lines when streaming)
are read by `absorb`, which also folds every line into one response with
`merge_response` (kept as the thunk's raw provider response).
"""

from __future__ import annotations

import difflib
import json
import logging
from collections.abc import Mapping
from typing import Any

from ..core.errors import BackendError, BackendProtocolError, InvalidOptionError
from ..core.media import ImageBlock, ImageUrlBlock
from ..core.thunk import ModelOutputThunk
from ._openai_messages import merge_provider_fields
from ._tool_calls import add_tool_call, parse_tool_call
from .formatter import ChatMessage
from .model_options import ModelOption, ResolvedOptions

logger = logging.getLogger("mellea")

TOP_LEVEL_KEYS = frozenset({"keep_alive", "think", "format"})
OLLAMA_OPTIONS = frozenset(
    "num_keep seed num_predict top_k top_p min_p typical_p repeat_last_n temperature "
    "repeat_penalty presence_penalty frequency_penalty penalize_newline stop tfs_z mirostat "
    "mirostat_tau mirostat_eta num_ctx num_batch num_gpu main_gpu use_mmap use_mlock "
    "num_thread numa low_vram vocab_only".split()
)
"""The `options` Ollama knows; it ignores any other (logging it on the server only)."""


def unknown_option_warnings(extra: Mapping[str, Any], allowed: frozenset[str]) -> list[str]:
    """A warning for each option Ollama will ignore (a typo, another backend's name)."""
    known = OLLAMA_OPTIONS | TOP_LEVEL_KEYS | allowed
    warnings = []
    for key in extra:
        if key in known:
            continue
        mellea_keys = [k.lower() for k in vars(ModelOption) if k.isupper()]
        close = difflib.get_close_matches(key, sorted(known), n=1) or [
            f"ModelOption.{k.upper()}" for k in difflib.get_close_matches(key, mellea_keys, n=1)
        ]
        hint = f" (did you mean {close[0]}?)" if close else ""
        warnings.append(f"Ollama does not know the model option {key!r}{hint}; sent anyway")
    return warnings


def _fields(opts: ResolvedOptions, json_schema: dict[str, Any] | None) -> dict[str, Any]:
    """The request fields every generation shares: `options`, `format`, `think`, ..."""
    options: dict[str, Any] = {}
    fields: dict[str, Any] = {"stream": opts.stream}
    for key, value in opts.extra.items():
        (fields if key in TOP_LEVEL_KEYS else options)[key] = value
    if opts.temperature is not None:
        options["temperature"] = opts.temperature
    if opts.max_tokens is not None:
        options["num_predict"] = opts.max_tokens
    if opts.seed is not None:
        options["seed"] = opts.seed
    if opts.stop:
        options["stop"] = opts.stop
    if opts.context_window is not None:
        options["num_ctx"] = opts.context_window
    if opts.thinking is not None:
        fields["think"] = opts.thinking
    if json_schema is not None:
        fields["format"] = json_schema
    if options:
        fields["options"] = options
    return fields


def chat_payload(
    model: str,
    messages: list[ChatMessage],
    opts: ResolvedOptions,
    json_schema: dict[str, Any] | None,
    tools: list[dict[str, Any]],
    fetch_media: bool = True,
) -> dict[str, Any]:
    """The `/api/chat` request body (`fetch_media=False`: image URLs left as URLs)."""
    payload: dict[str, Any] = {"model": model, "messages": wire_messages(messages, fetch_media)}
    payload.update(_fields(opts, json_schema))
    if tools:
        payload["tools"] = tools
    return payload


def generate_payload(
    model: str, prompt: str, opts: ResolvedOptions, json_schema: dict[str, Any] | None
) -> dict[str, Any]:
    """The `/api/generate` request body of a plain completion (`raw`: no template)."""
    payload: dict[str, Any] = {"model": model, "prompt": prompt, "raw": True}
    payload.update(_fields(opts, json_schema))
    return payload


def _image(image: Any, fetch: bool = True) -> str:
    """An image as Ollama takes it: bare base64 (URLs are downloaded, see `prefetch_images`;
    without `fetch`, for a description of the request, a URL stays a URL)."""
    if isinstance(image, ImageBlock):
        return image.base64
    if isinstance(image, ImageUrlBlock) and not fetch:
        return image.value or ""
    if isinstance(image, ImageUrlBlock):
        return image.resolve_base64()  # a cache hit once prefetched
    if isinstance(image, str) and not image.startswith(("http://", "https://")):
        return image.split("base64,", 1)[-1]
    raise InvalidOptionError(f"an image must be an ImageBlock or ImageUrlBlock, not {image!r:.80}")


async def prefetch_images(messages: list[ChatMessage]) -> None:
    """Download the messages' image URLs (Ollama takes images inline) off the event loop."""
    blocks = {
        id(b): b for m in messages for b in m.get("images") or () if isinstance(b, ImageUrlBlock)
    }
    for block in blocks.values():
        try:
            await block.aresolve_base64()
        except ValueError as exc:
            raise InvalidOptionError(f"could not fetch the image {block.value}: {exc}") from exc


def wire_message(
    message: ChatMessage, replay_reasoning: bool = False, fetch_media: bool = True
) -> dict[str, Any]:
    """A formatter message in Ollama's shape: images as a base64 list, tool-call arguments
    as objects, reasoning (`thinking`) only when replayed, its provider fields merged."""
    if message.get("audio"):
        raise InvalidOptionError(
            "Ollama's chat API takes no audio; send it to an OpenAI-compatible server that does"
        )
    out = {
        k: v
        for k, v in message.items()
        if k not in ("tool_calls", "tool_call_id", "images", "audio", "thinking", "provider_fields")
    }
    if message.get("images"):
        out["images"] = [_image(i, fetch_media) for i in message["images"]]
    if message.get("tool_calls"):
        out["tool_calls"] = [
            {"function": {"name": c["function"]["name"],
                          "arguments": json.loads(c["function"]["arguments"] or "{}")}}
            for c in message["tool_calls"]
        ]  # fmt: skip
    if replay_reasoning and message.get("thinking"):
        out["thinking"] = message["thinking"]
    return merge_provider_fields(out, message.get("provider_fields"), "ollama")


def wire_messages(messages: list[ChatMessage], fetch_media: bool = True) -> list[dict[str, Any]]:
    """Every message of a request; an assistant turn's reasoning is replayed only when the
    turn made tool calls (what reasoning models expect)."""
    return [
        wire_message(
            m,
            m.get("role") == "assistant" and bool(m.get("thinking") and m.get("tool_calls")),
            fetch_media,
        )
        for m in messages
    ]


def merge_response(merged: dict[str, Any] | None, delta: Mapping[str, Any]) -> dict[str, Any]:
    """`merged` (the response so far, or None) with one more streamed object folded in:
    text and thinking concatenated, tool calls appended, the last object's fields kept."""
    out: dict[str, Any] = dict(merged or {})
    for key, value in delta.items():
        if key not in ("message", "response"):
            out[key] = value
    if "response" in delta:  # /api/generate
        out["response"] = out.get("response", "") + (delta.get("response") or "")
    part = delta.get("message")
    if isinstance(part, Mapping):
        message = dict(out.get("message") or {"role": part.get("role", "assistant")})
        for key in ("content", "thinking"):
            if part.get(key):
                message[key] = message.get(key, "") + part[key]
        message.setdefault("content", "")
        if part.get("tool_calls"):
            message["tool_calls"] = [*message.get("tool_calls", []), *part["tool_calls"]]
        out["message"] = message
    return out


def absorb(data: Any, mot: ModelOutputThunk[Any], tools: Mapping[str, Any]) -> dict[str, Any]:
    """One response object (`/api/chat` or `/api/generate`) into the thunk; returns it."""
    if not isinstance(data, dict):
        raise BackendProtocolError(f"Ollama sent an unexpected object: {data!r:.200}")
    if "error" in data:
        raise BackendError(f"Ollama reported an error: {data['error']}")
    message = data.get("message") or {}
    content = message.get("content") if message else data.get("response")
    if content:
        mot._feed(content)
    for wire in message.get("tool_calls") or ():
        fn = wire.get("function") or {}
        index = len(mot.tool_calls or {})
        tc = parse_tool_call(fn.get("name", ""), fn.get("arguments"), tools, f"call_{index}")
        mot.tool_calls = add_tool_call(mot.tool_calls, tc)
    thinking = message.get("thinking") or data.get("thinking")
    if thinking:
        extra = mot.generation.extra
        extra["thinking"] = extra.get("thinking", "") + thinking
        mot.thinking = (mot.thinking or "") + thinking
    if data.get("done"):
        gen = mot.generation
        prompt, completion = data.get("prompt_eval_count", 0), data.get("eval_count", 0)
        gen.usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        if data.get("done_reason"):
            gen.finish_reasons = [data["done_reason"]]
        if data.get("model"):
            gen.response_model = data["model"]
    return data


__all__ = [
    "OLLAMA_OPTIONS",
    "TOP_LEVEL_KEYS",
    "absorb",
    "chat_payload",
    "generate_payload",
    "merge_response",
    "prefetch_images",
    "unknown_option_warnings",
    "wire_message",
    "wire_messages",
]
