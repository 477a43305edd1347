"""Errors in the OpenAI shape with the right status, deadlines, and cancel-on-disconnect."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from mellea.serve import ChatMessage
from tests.servers import LoopbackServer, Reply

from .conftest import loopback_session
from .test_openai_sdk import client, echo_program

PATH = "/v1/chat/completions"
HELLO: Any = [{"role": "user", "content": "hello"}]


def post(url: str, body: Any, **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{url}/v1/chat/completions", **({"json": body} | kwargs))


def assert_openai_error(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["type"] == kind and isinstance(error["message"], str) and error["message"]
    assert set(error) >= {"message", "type", "param", "code"}
    return dict(error)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "m"}, "messages"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, "messages.0.role"),
        ({"messages": HELLO, "temperature": 7}, "temperature"),
        ({"messages": HELLO, "n": 2}, "n"),
        ({"messages": HELLO, "response_format": {"type": "xml"}}, "response_format.type"),
        ({"messages": HELLO, "tools": [{"type": "function"}]}, "tools.0.function"),
    ],
)
def test_invalid_request_is_400_naming_the_field(
    body: Any, param: str, loopback: LoopbackServer, serve_program: Callable[..., str]
) -> None:
    url = serve_program(echo_program(loopback))
    error = assert_openai_error(post(url, body), 400, "invalid_request_error")
    assert error["param"] == param
    assert loopback.stats().for_path(PATH) == []  # nothing reached the model


def test_malformed_json_and_bad_schema_are_400(
    loopback: LoopbackServer, serve_program: Callable[..., str]
) -> None:
    url = serve_program(echo_program(loopback))
    headers = {"content-type": "application/json"}
    bad = post(url, None, content=b'{"messages": [', headers=headers)
    assert "not valid JSON" in assert_openai_error(bad, 400, "invalid_request_error")["message"]
    not_object = post(url, None, content=b"[1, 2]", headers=headers)
    assert_openai_error(not_object, 400, "invalid_request_error")
    schema = {"type": "json_schema", "json_schema": {"name": "p", "schema": {"type": "objekt"}}}
    error = assert_openai_error(
        post(url, {"messages": HELLO, "response_format": schema}), 400, "invalid_request_error"
    )
    assert error["param"] == "response_format.json_schema.schema"
    with pytest.raises(openai.BadRequestError):
        client(url).chat.completions.create(model="m", messages=HELLO, response_format=schema)


def test_response_format_needs_a_format_parameter(
    loopback: LoopbackServer, serve_program: Callable[..., str]
) -> None:
    session = loopback_session(loopback)

    def serve(input: list[ChatMessage], requirements: Any, model_options: Any) -> Any:
        return session.instruct(input[-1].get_text_content(), strategy=None)

    url = serve_program(serve)
    body = {"messages": HELLO, "response_format": {"type": "json_object"}}
    error = assert_openai_error(post(url, body), 400, "invalid_request_error")
    assert error["param"] == "response_format" and "format" in error["message"]
    text = {"messages": HELLO, "response_format": {"type": "text"}}
    assert post(url, text).json()["choices"][0]["message"]["content"] == "Echo: hello"


def failing_program(input: Any, requirements: Any, model_options: Any) -> Any:
    raise RuntimeError("the program broke: secret-internal-detail")


@pytest.mark.parametrize("debug", [False, True])
def test_program_that_raises_is_500_with_its_message(
    debug: bool, serve_program: Callable[..., str]
) -> None:
    url = serve_program(failing_program, debug=debug)
    error = assert_openai_error(post(url, {"messages": HELLO}), 500, "server_error")
    assert error["message"] == "RuntimeError: the program broke: secret-internal-detail"
    assert ("traceback" in error) is debug
    if debug:
        assert "failing_program" in error["traceback"] and "Traceback" in error["traceback"]
    with pytest.raises(openai.InternalServerError, match="the program broke"):
        client(url).chat.completions.create(model="m", messages=HELLO)


def test_error_during_a_stream_is_an_error_event(
    loopback: LoopbackServer, serve_program: Callable[..., str]
) -> None:
    loopback.enqueue(Reply(text="one two three four", drop_after_chunks=2))
    session = loopback_session(loopback)

    async def serve(input: Any, requirements: Any, model_options: Any) -> Any:
        return await session.ainstruct(
            input[-1].content, strategy=None, model_options=model_options
        )

    url = serve_program(serve)
    seen = []
    with pytest.raises(openai.APIError) as info:
        for chunk in client(url).chat.completions.create(model="m", messages=HELLO, stream=True):
            seen.extend(c.delta.content for c in chunk.choices if c.delta.content)
    assert "one" in "".join(seen)  # what was generated before the failure was sent
    assert "Backend" in str(info.value) or "connection" in str(info.value).lower()


def test_invalid_option_from_the_program_is_400(
    loopback: LoopbackServer, serve_program: Callable[..., str]
) -> None:
    session = loopback_session(loopback)

    def serve(input: Any, requirements: Any, model_options: Any) -> Any:
        return session.instruct(input[-1].content, model_options={"@@@bogus@@@": 1})

    url = serve_program(serve)
    assert_openai_error(post(url, {"messages": HELLO}), 400, "invalid_request_error")


def test_unknown_route_and_method(serve_program: Callable[..., str]) -> None:
    url = serve_program(failing_program)
    assert_openai_error(httpx.get(f"{url}/v1/nothing"), 404, "invalid_request_error")
    assert_openai_error(httpx.get(f"{url}/v1/chat/completions"), 405, "invalid_request_error")


@pytest.mark.parametrize("stream", [False, True])
def test_server_deadline_is_504_and_stops_the_generation(
    stream: bool, loopback: LoopbackServer, serve_program: Callable[..., str]
) -> None:
    loopback.configure(ttft=5.0)
    url = serve_program(echo_program(loopback), timeout=0.4)
    t0 = time.perf_counter()
    response = post(url, {"messages": HELLO, "stream": stream}, timeout=10)
    assert time.perf_counter() - t0 < 3
    if stream:  # the stream had started: the error is its last event
        assert response.status_code == 200
        last = [line for line in response.text.splitlines() if line][-1]
        error = json.loads(last.removeprefix("data: "))["error"]
        assert error["type"] == "timeout_error"
    else:
        error = assert_openai_error(response, 504, "timeout_error")
    assert error["code"] == "timeout" and "0.4 s" in error["message"]
    loopback.wait_idle(timeout=3)  # the backend request was aborted, not left running
    (request,) = loopback.stats().for_path(PATH)
    assert request.client_disconnected


def test_program_deadline_is_504(
    loopback: LoopbackServer, serve_program: Callable[..., str]
) -> None:
    loopback.configure(ttft=5.0)
    session = loopback_session(loopback)

    def serve(input: Any, requirements: Any, model_options: Any) -> Any:
        from mellea.backends import ModelOption

        return session.instruct(input[-1].content, model_options={ModelOption.TIMEOUT: 0.3})

    url = serve_program(serve)
    assert_openai_error(post(url, {"messages": HELLO}, timeout=10), 504, "timeout_error")


@pytest.mark.parametrize("stream", [False, True])
async def test_client_disconnect_cancels_the_generation(
    stream: bool, loopback: LoopbackServer, serve_program: Callable[..., str]
) -> None:
    """The client leaves mid-answer: the loopback sees its request aborted at once."""
    loopback.configure(token_delay=0.2, tokens=50)  # a 10 s answer
    url = serve_program(echo_program(loopback))
    body = {"messages": HELLO, "stream": stream}
    async with httpx.AsyncClient(timeout=10) as http:
        if stream:
            async with http.stream("POST", f"{url}/v1/chat/completions", json=body) as response:
                async for line in response.aiter_lines():
                    if '"tok1' in line:
                        break  # leave after a couple of tokens
        else:
            with pytest.raises(httpx.ReadTimeout):
                await http.post(f"{url}/v1/chat/completions", json=body, timeout=0.5)
    t0 = time.perf_counter()
    await asyncio.to_thread(loopback.wait_idle, 3.0)
    (request,) = loopback.stats().for_path(PATH)
    assert request.client_disconnected and loopback.stats().in_flight == 0
    assert time.perf_counter() - t0 < 1.5
