"""The OpenAI chat-completions wire format, shared by the OpenAI and LiteLLM backends.

Request side: `build_payload` turns a `ChatCall` into the JSON body (LiteLLM takes the same
fields as keyword arguments). Response side: `absorb_completion` reads a whole
`chat.completion`, `StreamAssembler` reads `chat.completion.chunk`s (text deltas,
index-merged tool-call fragments, usage, finish reasons). `StructuredOutputForm` learns
whether a server takes the standard `json_schema` response format or only llama.cpp's
`{"type": "json_object", "schema": ...}`.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

from ..core.errors import (
    BackendError,
    BackendProtocolError,
    BackendStatusError,
    MelleaError,
    RateLimitedError,
)
from ..core.thunk import ModelOutputThunk
from ._chat import ChatCall
from .formatter import ChatMessage
from .model_options import ModelOption, ResolvedOptions
from .tools import MelleaTool, add_tool_call, parse_tool_call

OPENAI_NATIVE_ALIASES: Mapping[str, str] = {
    "max_tokens": ModelOption.MAX_NEW_TOKENS,
    "max_completion_tokens": ModelOption.MAX_NEW_TOKENS,
    "seed": ModelOption.SEED,
    "stop": ModelOption.STOP_SEQUENCES,
    "stream": ModelOption.STREAM,
    "reasoning_effort": ModelOption.THINKING,
}
"""Chat-completions option names folded into `ModelOption` keys (which win)."""

logger = logging.getLogger("mellea")

JsonForm = Literal["json_schema", "json_object"]
_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_-]")


# ----- request ------------------------------------------------------------------------


def _image_part(image: Any) -> dict[str, Any]:
    url = str(image)
    if not url.startswith(("data:", "http://", "https://")):
        url = "data:image/png;base64," + url  # the formatter carries base64 PNG/JPEG bytes
    return {"type": "image_url", "image_url": {"url": url}}


def wire_message(message: ChatMessage) -> ChatMessage:
    """A formatter message in the strict OpenAI shape (images as content parts)."""
    if message.get("role") == "tool":
        # OpenAI's tool message has no `name`; some servers reject unknown fields.
        return {k: v for k, v in message.items() if k != "name"}
    images = message.get("images")
    if not images:
        return message
    out = {k: v for k, v in message.items() if k != "images"}
    out["content"] = [
        {"type": "text", "text": message.get("content") or ""},
        *(_image_part(img) for img in images),
    ]
    return out


def _all_required(node: Any) -> bool:
    """True if every object schema in `node` requires all its properties (strict-able)."""
    if isinstance(node, list):
        return all(_all_required(n) for n in node)
    if not isinstance(node, dict):
        return True
    props = node.get("properties")
    if isinstance(props, dict):
        if set(node.get("required") or ()) != set(props):
            return False
        if node.get("additionalProperties") not in (None, False):
            return False
    return all(_all_required(v) for v in node.values())


def _close_objects(node: Any) -> None:
    if isinstance(node, list):
        for n in node:
            _close_objects(n)
    elif isinstance(node, dict):
        if isinstance(node.get("properties"), dict):
            node["additionalProperties"] = False
        for v in node.values():
            _close_objects(v)


def response_format(name: str, schema: dict[str, Any], form: JsonForm) -> dict[str, Any]:
    """The `response_format` for a JSON schema, in the standard or llama.cpp form.

    `strict` is only claimed when OpenAI's strict mode can hold (every property required);
    a pydantic model with defaults is sent non-strict rather than rejected.
    """
    if form == "json_object":
        return {"type": "json_object", "schema": schema}
    strict = _all_required(schema)
    if strict:
        schema = copy.deepcopy(schema)
        _close_objects(schema)
    clean = _NAME_CHARS.sub("_", name)[:64] or "output"
    return {
        "type": "json_schema",
        "json_schema": {"name": clean, "schema": schema, "strict": strict},
    }


def _tool_choice(value: Any) -> Any:
    if isinstance(value, str) and value not in ("none", "auto", "required"):
        return {"type": "function", "function": {"name": value}}
    return value


def _merge_extra_body(payload: dict[str, Any], extra_body: Any) -> None:
    if not isinstance(extra_body, Mapping):
        return
    for key, value in extra_body.items():
        old = payload.get(key)
        if key == "chat_template_kwargs" and isinstance(old, dict) and isinstance(value, Mapping):
            payload[key] = {**old, **value}  # deep-merged so one layer never drops another
        else:
            payload[key] = value


def add_sampling_fields(
    payload: dict[str, Any],
    opts: ResolvedOptions,
    *,
    max_tokens_key: str = "max_tokens",
    default_extra_body: Mapping[str, Any] | None = None,
    merge_extra_body: bool = True,
) -> None:
    """The fields chat and plain completions share: stream, sampling, extra options."""
    payload["stream"] = opts.stream
    _merge_extra_body(payload, default_extra_body)
    for key, value in opts.extra.items():
        if key == "extra_body" and merge_extra_body:
            _merge_extra_body(payload, value)
        else:
            payload[key] = value
    if opts.stream:
        payload["stream_options"] = {**(payload.get("stream_options") or {}), "include_usage": True}
    if opts.temperature is not None:
        payload["temperature"] = opts.temperature
    if opts.max_tokens is not None:
        payload[max_tokens_key] = opts.max_tokens
    if opts.seed is not None:
        payload["seed"] = opts.seed
    if opts.stop:
        payload["stop"] = opts.stop


def build_payload(
    model: str,
    call: ChatCall,
    *,
    json_form: JsonForm = "json_schema",
    max_tokens_key: str = "max_tokens",
    default_extra_body: Mapping[str, Any] | None = None,
    merge_extra_body: bool = True,
) -> dict[str, Any]:
    """The chat-completions request body for `call`.

    `extra_body` options are merged into the body (raw HTTP) unless `merge_extra_body`
    is False (LiteLLM takes `extra_body` as an argument of its own).
    """
    opts = call.options
    payload: dict[str, Any] = {
        "model": model,
        "messages": [wire_message(m) for m in call.messages],
    }
    add_sampling_fields(
        payload, opts, max_tokens_key=max_tokens_key, default_extra_body=default_extra_body,
        merge_extra_body=merge_extra_body,
    )  # fmt: skip
    if isinstance(opts.thinking, str):
        payload["reasoning_effort"] = opts.thinking
    elif isinstance(opts.thinking, bool):  # vLLM / SGLang chat-template switch
        kwargs = payload.get("chat_template_kwargs") or {}
        payload["chat_template_kwargs"] = {**kwargs, "enable_thinking": opts.thinking}
    # CONTEXT_WINDOW has no chat-completions equivalent: the server fixes it at launch.
    if call.tools:
        payload["tools"] = [t.as_json_tool for t in call.tools.values()]
    if opts.tool_choice is not None and "tools" in payload:
        payload["tool_choice"] = _tool_choice(opts.tool_choice)
    if call.json_schema is not None:
        name = call.format.__name__ if call.format is not None else "output"
        payload["response_format"] = response_format(name, call.json_schema, json_form)
    return payload


def without_stream_fields(payload: dict[str, Any]) -> dict[str, Any]:
    """`payload` less the fields that only say how the answer is delivered."""
    for key in ("stream", "stream_options"):
        payload.pop(key, None)
    return payload


# ----- response -----------------------------------------------------------------------


def error_from_payload(error: Any, service: str) -> MelleaError:
    """An `{"error": ...}` object (a body or an SSE event) as a typed error."""
    message = error.get("message", error) if isinstance(error, dict) else error
    code = error.get("code") if isinstance(error, dict) else None
    text = f"{service} reported an error: {message}"
    if isinstance(code, int) and not isinstance(code, bool) and 400 <= code <= 599:
        cls = RateLimitedError if code == 429 else BackendStatusError
        return cls(text, status_code=code, body=str(error))
    return BackendError(text)


def _usage(raw: Any) -> dict[str, int] | None:
    if not isinstance(raw, dict):
        return None
    out = {k: v for k, v in raw.items() if isinstance(v, int) and not isinstance(v, bool)}
    return out or None


def _add_thinking(mot: ModelOutputThunk[Any], holder: Mapping[str, Any]) -> None:
    text = holder.get("reasoning_content") or holder.get("reasoning")
    if isinstance(text, str) and text:
        extra = mot.generation.extra
        extra["thinking"] = extra.get("thinking", "") + text


def _record_tool_calls(
    mot: ModelOutputThunk[Any],
    calls: list[tuple[str, Any, str | None]],
    tools: Mapping[str, MelleaTool[..., Any]],
) -> None:
    for i, (name, arguments, call_id) in enumerate(calls):
        tc = parse_tool_call(name, arguments, tools, call_id or f"call_{i}")
        mot.tool_calls = add_tool_call(mot.tool_calls, tc)  # repeated names kept


def absorb_completion(
    data: Any, mot: ModelOutputThunk[Any], tools: Mapping[str, MelleaTool[..., Any]], service: str
) -> None:
    """A non-streamed `chat.completion` into the thunk."""
    if not isinstance(data, dict):
        raise BackendProtocolError(f"{service} sent an unexpected body: {data!r:.200}")
    if data.get("error") is not None:
        raise error_from_payload(data["error"], service)
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise BackendProtocolError(f"{service} sent a completion without choices: {data!r:.200}")
    gen = mot.generation
    gen.response_id = data.get("id") or gen.response_id
    gen.usage = _usage(data.get("usage")) or gen.usage
    gen.finish_reasons = [str(c.get("finish_reason")) for c in choices if isinstance(c, dict)]
    message = choices[0].get("message") or {}
    content = message.get("content")
    if isinstance(content, str):
        mot._feed(content)
    _add_thinking(mot, message)
    calls = []
    for wire in message.get("tool_calls") or ():
        fn = wire.get("function") or {}
        calls.append((fn.get("name") or "", fn.get("arguments"), wire.get("id")))
    _record_tool_calls(mot, calls, tools)


class StreamAssembler:
    """Reads `chat.completion.chunk` objects into a thunk (choice 0 only)."""

    def __init__(self, tools: Mapping[str, MelleaTool[..., Any]], service: str) -> None:
        self.tools = tools
        self.service = service
        self.finish_reason: str | None = None
        self._calls: dict[int, list[Any]] = {}  # index -> [name, argument pieces, id]

    def absorb(self, chunk: Any, mot: ModelOutputThunk[Any]) -> None:
        if not isinstance(chunk, dict):
            raise BackendProtocolError(f"{self.service} sent an unexpected event: {chunk!r:.200}")
        if chunk.get("error") is not None:
            raise error_from_payload(chunk["error"], self.service)
        gen = mot.generation
        if gen.response_id is None and chunk.get("id"):
            gen.response_id = chunk["id"]
        usage = _usage(chunk.get("usage"))
        if usage:
            gen.usage = usage
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            content = delta.get("content")
            if isinstance(content, str) and content:
                mot._feed(content)
            _add_thinking(mot, delta)
            for fragment in delta.get("tool_calls") or ():
                self._merge(fragment)
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])

    def absorb_whole(self, data: Any, mot: ModelOutputThunk[Any]) -> None:
        """A non-streamed `chat.completion` (a server that ignored `stream`, or no stream)."""
        absorb_completion(data, mot, self.tools, self.service)

    def _merge(self, fragment: Mapping[str, Any]) -> None:
        # Fragments of one call share an index; the first carries id and name.
        index = fragment.get("index")
        if not isinstance(index, int):
            index = len(self._calls) if fragment.get("id") or not self._calls else max(self._calls)
        entry = self._calls.setdefault(index, ["", [], None])
        fn = fragment.get("function") or {}
        if fn.get("name") and not entry[0]:
            entry[0] = fn["name"]
        if isinstance(fn.get("arguments"), str):
            entry[1].append(fn["arguments"])
        if fragment.get("id") and entry[2] is None:
            entry[2] = fragment["id"]

    def finish(self, mot: ModelOutputThunk[Any]) -> None:
        if self.finish_reason is not None:
            mot.generation.finish_reasons = [self.finish_reason]
        calls = [(n, "".join(parts), cid) for _, (n, parts, cid) in sorted(self._calls.items())]
        _record_tool_calls(mot, calls, self.tools)


# ----- structured output: which response_format the server takes -------------------------

_REJECTING_STATUS = frozenset({400, 415, 422, 501})


def rejects_json_schema(error: BackendStatusError) -> bool:
    """The server refused the `json_schema` response format (not a transient failure).

    llama-cpp-python's server answers it with HTTP 500 and a validation message naming
    `response_format`; other servers use 4xx. A bare 500 is treated as transient.
    """
    if error.status_code in _REJECTING_STATUS:
        return True
    text = f"{error} {error.body}".lower()
    return error.status_code == 500 and ("json_schema" in text or "response_format" in text)


class StructuredOutputForm:
    """Remembers, per backend, which `response_format` form works (None: not known yet)."""

    def __init__(self) -> None:
        self.known: JsonForm | None = None

    async def run(
        self,
        send: Callable[[JsonForm, bool], Awaitable[None]],
        mot: ModelOutputThunk[Any],
        service: str,
    ) -> None:
        """`send(form, probe)` the request; a probe must not retry status errors itself."""
        if self.known is not None:
            await send(self.known, False)
            return
        try:
            await send("json_schema", True)
        except BackendStatusError as exc:
            if mot.partial_value or mot.tool_calls:
                raise  # output reached the thunk: never resend
            if rejects_json_schema(exc):
                logger.info(
                    "%s rejected the json_schema response format (%s); "
                    "using {'type': 'json_object', 'schema': ...} from now on",
                    service,
                    exc,
                )
                await send("json_object", False)
                self.known = "json_object"
                return
            if not exc.retryable:
                raise
            await send("json_schema", False)
        self.known = "json_schema"


__all__ = [
    "JsonForm",
    "StreamAssembler",
    "StructuredOutputForm",
    "absorb_completion",
    "add_sampling_fields",
    "build_payload",
    "error_from_payload",
    "rejects_json_schema",
    "response_format",
    "wire_message",
    "without_stream_fields",
]
