"""Reading chat-completions answers into a thunk (the OpenAI and LiteLLM backends).

`absorb_chunk` takes one object as it arrives — a whole `chat.completion`, or a
`chat.completion.chunk` of a stream — feeding text and reasoning at once and keeping the
object as the thunk's raw provider response (`mot.raw`). `finish_response` runs once the
answer is complete: streamed chunks are merged into one `chat.completion`
(`chat_completion_delta_merge`), then tool calls (`extract_model_tool_requests`), finish
reasons and ids are read from it. The same helpers serve programs that translate a
thunk back into the OpenAI shape (`build_tool_calls`, `build_completion_usage`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypedDict

from pydantic import BaseModel

from ..core.errors import (
    BackendError,
    BackendProtocolError,
    BackendStatusError,
    MelleaError,
    RateLimitedError,
)
from ..core.thunk import ModelOutputThunk, ModelToolCall
from ._tool_calls import add_tool_call, parse_tool_call

if TYPE_CHECKING:
    from ..core.base import AbstractMelleaTool


class ToolCallFunction(TypedDict):
    """The function of an OpenAI tool call: its name and JSON-text arguments."""

    name: str
    arguments: str


class ToolCallDict(TypedDict):
    """An OpenAI tool call: `id`, `type` ("function") and `function`."""

    id: str
    type: Literal["function"]
    function: ToolCallFunction


class CompletionUsage(BaseModel):
    """Token counts of a completion (the OpenAI `usage` object)."""

    completion_tokens: int
    prompt_tokens: int
    total_tokens: int


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
    # OpenAI nests the cached prompt tokens and the reasoning tokens; keep them flat.
    for details, key in (
        ("prompt_tokens_details", "cached_tokens"),
        ("completion_tokens_details", "reasoning_tokens"),
    ):
        nested = raw.get(details)
        value = nested.get(key) if isinstance(nested, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            out.setdefault(key, value)
    return out or None


def _feed_text(mot: ModelOutputThunk[Any], holder: Mapping[str, Any]) -> None:
    content = holder.get("content")
    if isinstance(content, str) and content:
        mot._feed(content)
    thinking = holder.get("reasoning_content") or holder.get("reasoning")
    if isinstance(thinking, str) and thinking:
        extra = mot.generation.extra
        extra["thinking"] = extra.get("thinking", "") + thinking
        mot.thinking = (mot.thinking or "") + thinking


def absorb_chunk(mot: ModelOutputThunk[Any], chunk: Any, service: str) -> None:
    """One answer object into the thunk: text and reasoning now, the rest kept for
    `finish_response`. Raises the typed error an `{"error": ...}` object carries."""
    if not isinstance(chunk, dict):
        raise BackendProtocolError(f"{service} sent an unexpected object: {chunk!r:.200}")
    if chunk.get("error") is not None:
        raise error_from_payload(chunk["error"], service)
    gen = mot.generation
    gen.response_id = gen.response_id or chunk.get("id")
    gen.usage = _usage(chunk.get("usage")) or gen.usage
    choices = chunk.get("choices")
    if chunk.get("object") == "chat.completion" or (
        isinstance(choices, list) and choices and isinstance(choices[0], dict)
        and "message" in choices[0]
    ):  # fmt: skip
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise BackendProtocolError(
                f"{service} sent a completion without choices: {chunk!r:.200}"
            )
        mot.raw.response = chunk
        _feed_text(mot, choices[0].get("message") or {})
        return
    if mot.raw.streamed_chunks is None:
        mot.raw.streamed_chunks = []
    mot.raw.streamed_chunks.append(chunk)
    for choice in choices or ():
        if isinstance(choice, dict) and choice.get("index", 0) == 0:
            _feed_text(mot, choice.get("delta") or {})


def stream_finished(mot: ModelOutputThunk[Any]) -> bool:
    """Whether the streamed chunks so far include the one with a finish reason."""
    return any(
        isinstance(c, dict) and choice.get("finish_reason")
        for c in mot.raw.streamed_chunks or ()
        for choice in c.get("choices") or ()
        if isinstance(choice, dict)
    )


def finish_response(
    mot: ModelOutputThunk[Any],
    tools: Mapping[str, Any],
    service: str,
    *,
    separate_calls: bool = False,
) -> None:
    """The complete answer into the thunk: tool calls, finish reasons, ids, the raw response.

    `separate_calls`: every streamed tool-call fragment is a call of its own (for providers
    whose fragments carry no usable index).
    """
    chunks = mot.raw.streamed_chunks
    if mot.raw.response is None and chunks is not None:
        deltas = [
            choice
            for chunk in chunks
            for choice in chunk.get("choices") or ()
            if isinstance(choice, dict) and choice.get("index", 0) == 0
        ]
        last = chunks[-1] if chunks else {}
        mot.raw.response = {
            "id": mot.generation.response_id,
            "object": "chat.completion",
            "model": next((c.get("model") for c in chunks if c.get("model")), None),
            "choices": [chat_completion_delta_merge(deltas, separate_calls)],
            "usage": mot.generation.usage or last.get("usage"),
        }
    response = mot.raw.response
    if not isinstance(response, dict) or not response.get("choices"):
        raise BackendProtocolError(f"{service} ended the answer without a choice")
    populate_response_metadata(mot, response)
    for call in extract_model_tool_requests(tools, response["choices"][0]) or ():
        mot.tool_calls = add_tool_call(mot.tool_calls, call)  # repeated names kept


class Reader(Protocol):
    """How a request's answer objects reach the thunk (chat or plain completions)."""

    async def absorb(self, mot: ModelOutputThunk[Any], chunk: Any) -> None: ...

    async def finish(self, mot: ModelOutputThunk[Any]) -> None: ...

    def finished(self, mot: ModelOutputThunk[Any]) -> bool: ...


class ChatReader:
    """A chat answer: each object through `on_chunk`, then `on_done` (the backend's
    `processing` / `post_processing`)."""

    def __init__(
        self,
        on_chunk: Callable[[ModelOutputThunk[Any], Any], Awaitable[None]],
        on_done: Callable[[ModelOutputThunk[Any]], Awaitable[None]],
    ) -> None:
        self._on_chunk = on_chunk
        self._on_done = on_done

    async def absorb(self, mot: ModelOutputThunk[Any], chunk: Any) -> None:
        await self._on_chunk(mot, chunk)

    async def finish(self, mot: ModelOutputThunk[Any]) -> None:
        await self._on_done(mot)

    def finished(self, mot: ModelOutputThunk[Any]) -> bool:
        return stream_finished(mot)


def as_dict(obj: Any) -> Any:
    """An SDK response object (pydantic) as its dict; dicts and others as they are."""
    if isinstance(obj, dict):
        return obj
    dump = getattr(obj, "model_dump", None)
    return dump() if dump is not None else obj


def get_value(obj: Any, key: str) -> Any:
    """`obj[key]` for a mapping, else the attribute `key` (None when absent)."""
    if type(obj) is dict or isinstance(obj, Mapping):  # (a JSON answer is a dict)
        return obj.get(key)
    return getattr(obj, key, None)


def populate_response_metadata(mot: ModelOutputThunk[Any], response: Any) -> None:
    """`response_model`, `response_id` and `finish_reasons` of an OpenAI-shaped answer
    (a dict or an SDK object) into `mot.generation`; fields it lacks are left alone."""
    gen = mot.generation
    model = get_value(response, "model")
    if isinstance(model, str) and model:
        gen.response_model = model
    response_id = get_value(response, "id")
    if isinstance(response_id, str) and response_id:
        gen.response_id = response_id
    choices = get_value(response, "choices")
    if choices and (type(choices) is list or isinstance(choices, Sequence)):
        reasons = []
        for choice in choices:  # (loops: no comprehension objects on every answer)
            reasons.append(get_value(choice, "finish_reason"))
        for reason in reasons:
            if reason is not None:
                gen.finish_reasons = [str(r) for r in reasons]
                break


def chat_completion_delta_merge(
    chunks: list[dict[str, Any]], force_all_tool_calls_separate: bool = False
) -> dict[str, Any]:
    """Streamed choice deltas (`{"index", "delta", "finish_reason"}`) as one choice of a
    `chat.completion`: content and reasoning concatenated, tool-call fragments merged by
    their `index` (a fragment without one continues the last call unless it has an `id`);
    `force_all_tool_calls_separate` makes every fragment its own call."""
    content: list[str] = []
    reasoning: list[str] = []
    role, finish, index = "assistant", None, 0
    calls: list[dict[str, Any]] = []
    by_index: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        if not isinstance(chunk, Mapping):
            continue
        index = chunk.get("index", index)
        finish = chunk.get("finish_reason") or finish
        delta = chunk.get("delta") or {}
        role = delta.get("role") or role
        if isinstance(delta.get("content"), str):
            content.append(delta["content"])
        thinking = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(thinking, str):
            reasoning.append(thinking)
        for fragment in delta.get("tool_calls") or ():
            position = fragment.get("index")
            if force_all_tool_calls_separate or not isinstance(position, int):
                new = force_all_tool_calls_separate or bool(fragment.get("id")) or not calls
                entry = _new_call(calls) if new else calls[-1]
            else:
                entry = by_index.get(position) or by_index.setdefault(position, _new_call(calls))
            fn = fragment.get("function") or {}
            if fragment.get("id") and not entry["id"]:
                entry["id"] = fragment["id"]
            if fn.get("name") and not entry["function"]["name"]:
                entry["function"]["name"] = fn["name"]
            if isinstance(fn.get("arguments"), str):
                entry["function"]["arguments"] += fn["arguments"]
    message: dict[str, Any] = {
        "role": role,
        "content": "".join(content),
        "reasoning_content": "".join(reasoning),
    }
    if calls:
        message["tool_calls"] = calls
    return {"index": index, "finish_reason": finish, "logprobs": None, "message": message}


def _new_call(calls: list[dict[str, Any]]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": None,
        "type": "function",
        "function": {"name": "", "arguments": ""},
    }
    calls.append(entry)
    return entry


def extract_model_tool_requests(
    tools: Mapping[str, AbstractMelleaTool[..., Any]] | Mapping[str, Any], response: dict[str, Any]
) -> list[ModelToolCall] | None:
    """The tool calls of one choice (`{"message": {"tool_calls": [...]}}`), in order; None
    if it made none. A call of a tool not in `tools` keeps `func=None` (the model is told)."""
    message = response.get("message") or {}
    calls = []
    for i, wire in enumerate(message.get("tool_calls") or ()):
        fn = wire.get("function") or {}
        call_id = wire.get("id") or f"call_{i}"
        calls.append(parse_tool_call(fn.get("name") or "", fn.get("arguments"), tools, call_id))
    return calls or None


def has_tool_calls(output: ModelOutputThunk[Any]) -> bool:
    """Whether `output` asked for tool calls."""
    return bool(output.tool_calls)


def build_tool_calls(output: ModelOutputThunk[Any]) -> list[ToolCallDict] | None:
    """`output`'s tool calls in the OpenAI shape, or None if it made none."""
    if not output.tool_calls:
        return None
    return [
        ToolCallDict(
            id=call.call_id or f"call_{i}",
            type="function",
            function=ToolCallFunction(name=call.name, arguments=json.dumps(dict(call.args))),
        )
        for i, call in enumerate(output.tool_calls.values())
    ]


def build_completion_usage(output: ModelOutputThunk[Any]) -> CompletionUsage | None:
    """`output`'s token counts as a `CompletionUsage`, or None when it has none."""
    usage = output.generation.usage
    if not usage:
        return None
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    total = int(usage.get("total_tokens") or prompt + completion)
    return CompletionUsage(completion_tokens=completion, prompt_tokens=prompt, total_tokens=total)


__all__ = [
    "ChatReader",
    "CompletionUsage",
    "Reader",
    "ToolCallDict",
    "ToolCallFunction",
    "absorb_chunk",
    "as_dict",
    "build_completion_usage",
    "build_tool_calls",
    "chat_completion_delta_merge",
    "error_from_payload",
    "extract_model_tool_requests",
    "finish_response",
    "get_value",
    "has_tool_calls",
    "populate_response_metadata",
    "stream_finished",
]
