"""OpenAIBackend against the loopback OpenAI-compatible server: wire format, streaming,
structured output (with the llama.cpp fallback), tools, options and typed failures."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator

import pytest
from pydantic import BaseModel

import mellea
from mellea.backends import ModelOption
from mellea.backends._policy import RetryPolicy
from mellea.backends.openai import OpenAIBackend, openai_base_urls
from mellea.backends.tools import tool
from mellea.core.errors import (
    BackendError,
    BackendProtocolError,
    BackendStatusError,
    BackendUnavailableError,
    InvalidOptionError,
    RateLimitedError,
    ReadTimeoutError,
)
from mellea.stdlib.context import ChatContext
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer, Reply

FAST_RETRY = RetryPolicy(max_retries=2, backoff_initial=0.01, backoff_max=0.02)
STREAM = {ModelOption.STREAM: True}
PATH = "/v1/chat/completions"


def make(srv: LoopbackServer, ctx: object = None, **kw: object) -> MelleaSession:
    kw.setdefault("retry", FAST_RETRY)
    backend = OpenAIBackend("test-model", base_url=srv.openai_base_url, **kw)  # type: ignore[arg-type]
    return MelleaSession(backend, ctx)  # type: ignore[arg-type]


def bodies(srv: LoopbackServer) -> list[dict]:
    return [r.body for r in srv.stats().for_path(PATH)]


class Person(BaseModel):
    name: str
    age: int


class Loose(BaseModel):
    name: str
    nickname: str = ""


@tool
def add(a: int, b: int) -> int:
    """Add two numbers.

    Args:
        a: The first number.
        b: The second number.
    """
    return a + b


# ----- configuration --------------------------------------------------------------------


def test_base_url_and_key_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    assert openai_base_urls() == ["https://api.openai.com/v1"]
    monkeypatch.setenv("OPENAI_BASE_URL", "http://a:1/v1/, http://b:2/v1")
    assert openai_base_urls() == ["http://a:1/v1", "http://b:2/v1"]
    assert openai_base_urls("http://x/v1/") == ["http://x/v1"]
    with pytest.raises(InvalidOptionError):
        openai_base_urls(["localhost:8000"])
    monkeypatch.delenv("OPENAI_BASE_URL")
    # The official API needs a key; say so before any request (and without any I/O).
    with pytest.raises(InvalidOptionError, match="OPENAI_API_KEY"):
        OpenAIBackend()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    b = OpenAIBackend()
    assert b.model_id == "gpt-4o" and b.base_url == "https://api.openai.com/v1"


def test_constructor_does_no_io() -> None:
    t0 = time.perf_counter()
    OpenAIBackend("m", base_url="http://10.255.255.1:9/v1")  # unroutable: I/O would hang
    assert time.perf_counter() - t0 < 0.5


def test_bearer_key_from_argument_or_environment(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    make(loopback, api_key="sk-arg").instruct("x")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    make(loopback).instruct("y")
    make(loopback, api_key="sk-arg", default_headers={"x-team": "a"}).instruct("z")
    first, second, third = loopback.stats().for_path(PATH)
    assert first.headers["authorization"] == "Bearer sk-arg"
    assert second.headers["authorization"] == "Bearer sk-env"
    assert third.headers["x-team"] == "a"
    monkeypatch.delenv("OPENAI_API_KEY")
    make(loopback).instruct("no key")
    assert "authorization" not in loopback.stats().for_path(PATH)[-1].headers


def test_start_session_openai_and_environment_switch(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = mellea.start_session("openai", model_id="loopback", base_url=loopback.openai_base_url)
    assert isinstance(m.backend, OpenAIBackend) and m.instruct("hi").value == "Echo: hi"
    monkeypatch.setenv("MELLEA_BACKEND", "openai")
    monkeypatch.setenv("MELLEA_MODEL", "served-name")
    monkeypatch.setenv("OPENAI_BASE_URL", loopback.openai_base_url)
    m = mellea.start_session()
    assert isinstance(m.backend, OpenAIBackend) and m.backend.model_id == "served-name"
    assert m.instruct("env").value == "Echo: env"
    assert bodies(loopback)[-1]["model"] == "served-name"
    monkeypatch.setenv("MELLEA_BACKEND", "nonsense")
    with pytest.raises(ValueError, match="MELLEA_BACKEND"):
        mellea.start_session()


# ----- generation -----------------------------------------------------------------------


def test_non_streaming_call_usage_and_metadata(loopback: LoopbackServer) -> None:
    mot = make(loopback).instruct("count these words")
    assert mot.value == "Echo: count these words"
    gen = mot.generation
    assert gen.usage is not None and gen.usage["completion_tokens"] > 0
    assert gen.usage["total_tokens"] == gen.usage["prompt_tokens"] + gen.usage["completion_tokens"]
    assert gen.finish_reasons == ["stop"] and gen.response_id.startswith("chatcmpl-")
    assert gen.provider == "openai" and gen.model == "test-model" and not gen.streaming
    (body,) = bodies(loopback)
    assert body["model"] == "test-model" and body["stream"] is False
    assert "stream_options" not in body and "response_format" not in body
    assert body["messages"] == [{"role": "user", "content": "count these words"}]


async def test_streaming_feeds_deltas_and_captures_usage(loopback: LoopbackServer) -> None:
    loopback.configure(tokens=40, token_delay=0.01)
    mot = await make(loopback).ainstruct("x", model_options=STREAM)
    first = await mot.astream()
    assert first and not mot.is_computed()
    rest = "".join([d async for d in mot])
    assert first + rest == mot.value and mot.value.startswith("tok0 ")
    gen = mot.generation
    assert gen.streaming and gen.finish_reasons == ["stop"]
    assert gen.usage is not None and gen.usage["completion_tokens"] == 40
    assert gen.response_id and gen.response_id.startswith("chatcmpl-")
    (body,) = bodies(loopback)
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


def test_options_reach_the_wire(loopback: LoopbackServer) -> None:
    m = make(
        loopback,
        model_options={
            ModelOption.SYSTEM_PROMPT: "Be brief.",
            ModelOption.TEMPERATURE: 0.3,
            "max_tokens": 99,  # native alias: the ModelOption below wins
            "top_p": 0.5,  # native passthrough
        },
        default_extra_body={"chat_template_kwargs": {"enable_thinking": False}},
    )
    mot = m.instruct(
        "hello world again",
        model_options={
            ModelOption.MAX_NEW_TOKENS: 2,
            ModelOption.SEED: 7,
            ModelOption.STOP_SEQUENCES: ["\n\n"],
            ModelOption.THINKING: "low",
            "extra_body": {"chat_template_kwargs": {"custom": 1}, "top_k": 20},
        },
    )
    (body,) = bodies(loopback)
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert body["temperature"] == 0.3 and body["max_tokens"] == 2 and body["seed"] == 7
    assert body["stop"] == ["\n\n"] and body["top_p"] == 0.5 and body["top_k"] == 20
    assert body["reasoning_effort"] == "low"
    assert body["chat_template_kwargs"] == {"enable_thinking": False, "custom": 1}
    assert "max_completion_tokens" not in body and "extra_body" not in body
    assert mot.value == "Echo: hello " and mot.generation.finish_reasons == ["length"]
    # The newer native OpenAI name alone is kept as the user wrote it.
    make(loopback).instruct("x", model_options={"max_completion_tokens": 5})
    assert bodies(loopback)[-1]["max_completion_tokens"] == 5
    assert "max_tokens" not in bodies(loopback)[-1]


def test_bad_option_fails_before_any_request(loopback: LoopbackServer) -> None:
    with pytest.raises(InvalidOptionError):
        make(loopback).instruct("x", model_options={ModelOption.MAX_NEW_TOKENS: "ten"})
    assert loopback.stats().total_requests == 0


def test_chat_context_history_on_the_wire(loopback: LoopbackServer) -> None:
    m = make(loopback, ctx=ChatContext())
    assert str(m.chat("Hello.")) == "Echo: Hello."
    assert str(m.chat("More.")) == "Echo: More."
    assert bodies(loopback)[-1]["messages"] == [
        {"role": "user", "content": "Hello."},
        {"role": "assistant", "content": "Echo: Hello."},
        {"role": "user", "content": "More."},
    ]


# ----- structured output ---------------------------------------------------------------------


def test_format_sends_a_json_schema(loopback: LoopbackServer) -> None:
    mot = make(loopback).instruct("describe", format=Person)
    assert isinstance(mot.parsed_repr, Person)
    assert Person.model_validate_json(mot.value or "") == mot.parsed_repr
    fmt = bodies(loopback)[0]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "Person"
    # Every field required: strict mode holds, objects closed as OpenAI requires.
    assert fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"]["additionalProperties"] is False
    make(loopback).instruct("describe", format=Loose)
    loose = bodies(loopback)[1]["response_format"]["json_schema"]
    assert loose["strict"] is False and "additionalProperties" not in loose["schema"]


async def test_json_schema_falls_back_to_json_object_once(
    loopback: LoopbackServer, mellea_logs: pytest.LogCaptureFixture
) -> None:
    loopback.configure(reject_json_schema=True)  # llama.cpp's server: HTTP 500
    m = make(loopback, retry=RetryPolicy(max_retries=2, backoff_initial=1.0))
    t0 = time.perf_counter()
    first = await m.ainstruct("describe", format=Person)
    assert isinstance((await first.avalue(), first.parsed_repr)[1], Person)
    assert time.perf_counter() - t0 < 0.9  # the rejection was not retried with backoff
    kinds = [b["response_format"]["type"] for b in bodies(loopback)]
    assert kinds == ["json_schema", "json_object"]
    assert bodies(loopback)[1]["response_format"]["schema"]["required"] == ["name", "age"]
    # Remembered: later calls (streaming too) go straight to the form that works.
    thunks = [await m.ainstruct("describe", format=Person, model_options=STREAM) for _ in range(3)]
    await asyncio.gather(*(t.avalue() for t in thunks))
    assert all(isinstance(t.parsed_repr, Person) for t in thunks)
    kinds = [b["response_format"]["type"] for b in bodies(loopback)]
    assert kinds == ["json_schema", "json_object", "json_object", "json_object", "json_object"]
    assert mellea_logs.text.count("rejected the json_schema") == 1


def test_a_plain_server_error_is_not_mistaken_for_a_rejection(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(status=503, error_body="overloaded"))
    m = make(loopback)
    mot = m.instruct("describe", format=Person)
    assert isinstance(mot.parsed_repr, Person)
    assert [b["response_format"]["type"] for b in bodies(loopback)] == ["json_schema"] * 2
    m.instruct("describe", format=Person)
    assert bodies(loopback)[-1]["response_format"]["type"] == "json_schema"


# ----- tools --------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_tool_calls_are_parsed(loopback: LoopbackServer, stream: bool) -> None:
    loopback.enqueue(
        Reply(
            tool_calls=[
                {"name": "add", "arguments": {"a": 2, "b": 40}},
                {"name": "lookup", "arguments": {"query": "a fairly long query string"}},
            ]
        )
    )
    mot = make(loopback).instruct(
        "add",
        model_options={ModelOption.TOOLS: [add], ModelOption.TOOL_CHOICE: "add", **(
            STREAM if stream else {}
        )},
        tool_calls=True,
    )  # fmt: skip
    assert mot.tool_calls is not None and set(mot.tool_calls) == {"add", "lookup"}
    call = mot.tool_calls["add"]
    assert call.args == {"a": 2, "b": 40} and call.call_func() == 42
    assert call.call_id and call.call_id.startswith("call_")
    assert mot.tool_calls["lookup"].args == {"query": "a fairly long query string"}
    assert mot.tool_calls["lookup"].func is None  # not offered: nothing to call
    assert mot.generation.finish_reasons == ["tool_calls"]
    (body,) = bodies(loopback)
    assert body["tools"] == [add.as_json_tool]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "add"}}


def test_tool_results_go_back_in_openai_shape(loopback: LoopbackServer) -> None:
    from mellea.core.message import ToolMessage

    loopback.enqueue(Reply(tool_calls=[{"name": "add", "arguments": {"a": 1, "b": 2}}]))
    m = make(loopback, ctx=ChatContext())
    mot = m.instruct("add", model_options={ModelOption.TOOLS: [add]}, tool_calls=True)
    assert mot.tool_calls is not None
    call = mot.tool_calls["add"]
    m.act(ToolMessage(str(call.call_func()), name="add", tool_call_id=call.call_id))
    messages = bodies(loopback)[-1]["messages"]
    assert messages[1]["tool_calls"][0]["function"] == {
        "name": "add",
        "arguments": json.dumps({"a": 1, "b": 2}),
    }
    assert messages[2] == {"role": "tool", "content": "3", "tool_call_id": call.call_id}


# ----- failures -----------------------------------------------------------------------------


def test_unreachable_server_is_a_clear_typed_error() -> None:
    m = MelleaSession(OpenAIBackend("m", base_url="http://127.0.0.1:9/v1", retry=FAST_RETRY))
    t0 = time.perf_counter()
    with pytest.raises(BackendUnavailableError, match="base_url") as info:
        m.instruct("x")
    assert isinstance(info.value, ConnectionError) and time.perf_counter() - t0 < 2


def test_client_errors_are_typed_and_not_retried(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(status=404, error_body="The model `test-model` does not exist"))
    with pytest.raises(BackendStatusError, match="does not exist") as info:
        make(loopback).instruct("x")
    assert info.value.status_code == 404 and loopback.stats().total_requests == 1


def test_server_errors_and_rate_limits_are_retried(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(status=503), Reply(status=429, headers={"Retry-After": "0"}))
    mot = make(loopback).instruct("x")
    assert mot.value == "Echo: x" and mot.generation.attempts == 3
    loopback.enqueue(Reply(status=429, times=5, error_body="slow down"))
    with pytest.raises(RateLimitedError, match="slow down"):
        make(loopback).instruct("x")


async def test_stall_mid_stream_times_out_with_partial_text(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text="a b c d", stall_after_chunks=(2, 5.0)))
    mot = await make(loopback).ainstruct(
        "x", model_options={**STREAM, ModelOption.STREAM_TIMEOUT: 0.3}
    )
    with pytest.raises(ReadTimeoutError) as info:
        await mot.avalue()
    assert info.value.partial_output == "a b " == mot.partial_value


@pytest.mark.parametrize("fault", ["drop_after_chunks", "malformed_after_chunks"])
async def test_broken_streams_are_protocol_errors(loopback: LoopbackServer, fault: str) -> None:
    loopback.enqueue(Reply(text="a b c d", **{fault: 2}))  # type: ignore[arg-type]
    mot = await make(loopback).ainstruct("x", model_options=STREAM)
    with pytest.raises(BackendProtocolError) as info:
        await mot.avalue()
    assert info.value.partial_output.startswith("a b ")


async def test_cancel_aborts_the_request_on_the_server(loopback: LoopbackServer) -> None:
    loopback.configure(tokens=200, token_delay=0.01)
    mot = await make(loopback).ainstruct("x", model_options=STREAM)
    await mot.astream()
    await mot.acancel()
    assert mot.is_cancelled() and mot.partial_value.startswith("tok0")
    stats = loopback.wait_idle()
    assert stats.disconnects == 1 and stats.requests[-1].client_disconnected


# A hand-written SSE reply, for what the loopback server does not script: an error event
# in the middle of a stream, and a stream that ends without `[DONE]`.


async def _canned_server(body: bytes) -> AsyncIterator[str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1]) for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )  # fmt: skip
        await reader.readexactly(length)
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"connection: close\r\n\r\n" + body
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.close()


def _chunk(delta: dict) -> bytes:
    obj = {"id": "c1", "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


@pytest.mark.parametrize(
    ("event", "error_type"),
    [
        (b'data: {"error": {"message": "boom", "code": 500}}\n\n', BackendStatusError),
        (b'event: error\ndata: {"message": "overloaded"}\n\n', BackendError),
        (b"", BackendProtocolError),  # the stream just ends: no [DONE], no finish_reason
    ],
)
async def test_stream_errors_are_typed(event: bytes, error_type: type[Exception]) -> None:
    body = _chunk({"role": "assistant", "content": ""}) + _chunk({"content": "par"}) + event
    async for url in _canned_server(body):
        m = MelleaSession(OpenAIBackend("m", base_url=url, retry=FAST_RETRY))
        mot = await m.ainstruct("x", model_options=STREAM)
        with pytest.raises(error_type) as info:
            await mot.avalue()
        assert info.value.partial_output == "par"
        await m.aclose()


async def test_stream_without_done_but_finished_is_accepted() -> None:
    finish = {"id": "c1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    body = _chunk({"content": "ok"}) + b"data: " + json.dumps(finish).encode() + b"\n\n"
    async for url in _canned_server(body):
        m = MelleaSession(OpenAIBackend("m", base_url=url))
        mot = await m.ainstruct("x", model_options=STREAM)
        assert await mot.avalue() == "ok" and mot.generation.finish_reasons == ["stop"]
        await m.aclose()


def test_no_output_is_printed(loopback: LoopbackServer, capsys: pytest.CaptureFixture[str]) -> None:
    logging.getLogger("mellea").setLevel(logging.DEBUG)
    try:
        loopback.configure(reject_json_schema=True)
        make(loopback).instruct("x", format=Person, model_options=STREAM)
    finally:
        logging.getLogger("mellea").setLevel(logging.NOTSET)
    assert capsys.readouterr().out == ""


async def test_reasoning_text_is_kept_apart_from_the_answer() -> None:
    body = (
        _chunk({"role": "assistant", "reasoning_content": "Let me think. "})
        + _chunk({"reasoning_content": "Four."})
        + _chunk({"content": "4"})
        + b"data: [DONE]\n\n"
    )
    async for url in _canned_server(body):
        m = MelleaSession(OpenAIBackend("m", base_url=url))
        mot = await m.ainstruct("2+2?", model_options=STREAM)
        assert await mot.avalue() == "4"
        assert mot.generation.extra["thinking"] == "Let me think. Four."
        await m.aclose()
