"""The OpenAI chat-completions request, shared by the OpenAI and LiteLLM backends.

`build_payload` turns a `ChatCall` into the JSON body (LiteLLM takes the same fields as
keyword arguments); messages are converted by `_openai_messages`, answers read by
`_openai_response`. `StructuredOutputForm` learns whether a server takes the standard
`json_schema` response format or only llama.cpp's `{"type": "json_object", "schema": ...}`.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

from ..core.errors import BackendStatusError
from ..core.thunk import ModelOutputThunk
from ._chat import ChatCall
from ._openai_messages import openai_messages
from .model_options import ModelOption, ResolvedOptions

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
    if not extra_body or not isinstance(extra_body, Mapping):
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
    provider: str = "openai",
    fetch_media: bool = True,
) -> dict[str, Any]:
    """The chat-completions request body for `call` (messages in `openai_message` shape;
    `provider` picks the messages' provider fields).

    `extra_body` options are merged into the body (raw HTTP) unless `merge_extra_body`
    is False (LiteLLM takes `extra_body` as an argument of its own).
    """
    opts = call.options
    payload: dict[str, Any] = {
        "model": model,
        "messages": openai_messages(call.messages, provider, fetch_media),
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
    "StructuredOutputForm",
    "add_sampling_fields",
    "build_payload",
    "rejects_json_schema",
    "response_format",
    "without_stream_fields",
]
