"""The OpenAI chat-completions wire format: the request model, and response/chunk bodies.

Requests are validated with pydantic (an invalid field is a 400 naming the field);
responses are built as plain dicts (a streamed token is one `json.dumps`, no model).
Which request fields become `model_options` is decided here, in `model_options()`.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .models import ChatMessage

if TYPE_CHECKING:
    from ..backends.tools import MelleaTool
    from ..core.thunk import ModelToolCall

FINISH_REASONS = frozenset({"stop", "length", "content_filter", "tool_calls", "function_call"})


class FunctionDefinition(BaseModel):
    name: str = Field(min_length=1)
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ToolDefinition(BaseModel):
    type: Literal["function"]
    function: FunctionDefinition


class NamedToolChoice(BaseModel):
    type: Literal["function"]
    function: dict[str, str]


class JsonSchemaFormat(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    name: str = "response"
    schema_: dict[str, Any] = Field(default_factory=dict, alias="schema")
    description: str | None = None
    strict: bool | None = None


class ResponseFormat(BaseModel):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """`POST /v1/chat/completions`; unknown fields are kept (see `client_options`)."""

    model_config = ConfigDict(extra="allow")

    model: str = "mellea"
    messages: list[ChatMessage] = Field(min_length=1)
    requirements: list[str] | None = None
    """mellea's extension: requirements the answer must meet, passed to `serve()`."""
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    n: int | None = Field(default=None, ge=1, le=1)  # one choice per request
    stop: str | list[str] | None = None
    seed: int | None = None
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    tools: list[ToolDefinition] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    response_format: ResponseFormat | None = None


def model_options(request: ChatCompletionRequest) -> dict[str, Any]:
    """The request's generation parameters as mellea `model_options`.

    `model` (routing metadata), `stream`, `n`, `user` and unknown fields never enter
    them; a `serve()` that wants those declares `client_options` (the raw request).
    """
    from ..backends.model_options import ModelOption

    options: dict[str, Any] = {}
    if request.stream:  # stream from the engine too, so tokens flow as they come
        options[ModelOption.STREAM] = True
    if request.temperature is not None:
        options[ModelOption.TEMPERATURE] = request.temperature
    max_tokens = request.max_completion_tokens or request.max_tokens
    if max_tokens is not None:
        options[ModelOption.MAX_NEW_TOKENS] = max_tokens
    if request.seed is not None:
        options[ModelOption.SEED] = request.seed
    if request.stop:
        options[ModelOption.STOP_SEQUENCES] = (
            [request.stop] if isinstance(request.stop, str) else list(request.stop)
        )
    for native in ("top_p", "presence_penalty", "frequency_penalty"):
        value = getattr(request, native)
        if value is not None:
            options[native] = value
    if request.tools:
        options[ModelOption.TOOLS] = [_client_tool(t.function) for t in request.tools]
    choice = request.tool_choice
    if isinstance(choice, NamedToolChoice):
        options[ModelOption.TOOL_CHOICE] = choice.function.get("name", "")
    elif choice is not None:
        options[ModelOption.TOOL_CHOICE] = choice
    return options


def _client_tool(spec: FunctionDefinition) -> MelleaTool[..., Any]:
    """A tool the client defined: offered to the model; the client runs it."""
    from ..backends.tools import MelleaTool

    def runs_on_the_client(**_args: Any) -> Any:
        raise RuntimeError(
            f"tool {spec.name!r} was defined by the client of m serve; return the call to it"
        )

    as_json_tool = {"type": "function", "function": spec.model_dump(exclude_none=True)}
    return MelleaTool(spec.name, runs_on_the_client, as_json_tool)


# ----- responses --------------------------------------------------------------------------


def new_completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def now() -> int:
    return int(time.time())


def tool_calls_wire(calls: dict[str, ModelToolCall] | None) -> list[dict[str, Any]]:
    """A thunk's tool calls as OpenAI `tool_calls` entries (arguments as JSON text)."""
    out = []
    for i, call in enumerate((calls or {}).values()):
        raw = call.args.get("__raw_arguments__") if len(call.args) == 1 else None
        arguments = raw if isinstance(raw, str) else json.dumps(call.args)
        out.append(
            {
                "id": call.call_id or f"call_{uuid.uuid4().hex[:24]}_{i}",
                "type": "function",
                "function": {"name": call.name, "arguments": arguments},
            }
        )
    return out


def finish_reason(reasons: list[str] | None, has_tool_calls: bool) -> str:
    if has_tool_calls:
        return "tool_calls"
    first = (reasons or ["stop"])[0]
    return first if first in FINISH_REASONS else "stop"


def usage_wire(usage: dict[str, int] | None) -> dict[str, int] | None:
    if not usage:
        return None
    prompt = int(usage.get("prompt_tokens", 0))
    completion = int(usage.get("completion_tokens", 0))
    total = int(usage.get("total_tokens", prompt + completion))
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}


def completion_body(
    completion_id: str,
    model: str,
    created: int,
    content: str | None,
    tool_calls: list[dict[str, Any]],
    finish: str,
    usage: dict[str, int] | None,
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "system_fingerprint": None,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": usage,
    }


class ChunkWriter:
    """SSE `data:` lines of one streamed completion (`chat.completion.chunk` objects)."""

    __slots__ = ("_head",)

    def __init__(self, completion_id: str, model: str, created: int) -> None:
        # Every chunk starts with the same fields: serialise them once.
        head = json.dumps(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": None,
            }
        )
        self._head = head[:-1]

    def _event(self, choices: str, usage: str = "null") -> bytes:
        return f'data: {self._head}, "choices": {choices}, "usage": {usage}}}\n\n'.encode()

    def delta(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return self._event(json.dumps([choice]))

    def content(self, text: str) -> bytes:
        return self.delta({"content": text})

    def usage(self, usage: dict[str, int] | None) -> bytes:
        return self._event("[]", json.dumps(usage))


DONE = b"data: [DONE]\n\n"


def error_body(
    message: str, kind: str, *, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """The OpenAI error shape: `{"error": {"message", "type", "param", "code"}}`."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def error_event(body: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(body)}\n\n".encode()


__all__ = [
    "DONE",
    "ChatCompletionRequest",
    "ChunkWriter",
    "completion_body",
    "error_body",
    "error_event",
    "finish_reason",
    "model_options",
    "new_completion_id",
    "tool_calls_wire",
    "usage_wire",
]
