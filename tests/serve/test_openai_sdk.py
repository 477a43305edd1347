"""`m serve` called by the official `openai` SDK: sync, async, streaming, tools, response_format.

Each program is a real `serve()` on a real mellea session (OpenAI backend → the loopback
LLM server), served by the real app on uvicorn.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import openai
import pytest
from pydantic import BaseModel

from mellea.backends import ModelOption
from mellea.core import ImageBlock
from mellea.serve import ChatMessage, ImageUrlContent, TextContent
from tests.servers import LoopbackServer, Reply

from .conftest import EXAMPLE, loopback_session

PATH = "/v1/chat/completions"


def client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)


def aclient(url: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)


def echo_program(srv: LoopbackServer, seen: list[dict[str, Any]] | None = None) -> Any:
    """An async program: the last message as a plain instruction (no sampling)."""
    session = loopback_session(srv)

    async def serve(
        input: list[ChatMessage],
        requirements: list[str] | None = None,
        model_options: dict[str, Any] | None = None,
        format: Any = None,
        client_options: dict[str, Any] | None = None,
    ) -> Any:
        if seen is not None:
            seen.append(
                {"input": input, "requirements": requirements, "model_options": model_options,
                 "format": format, "client_options": client_options}
            )  # fmt: skip
        return await session.ainstruct(
            input[-1].get_text_content(), strategy=None, model_options=model_options,
            format=format, tool_calls=True,
        )  # fmt: skip

    return serve


def test_docs_example_unchanged(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer, serve_program: Callable[..., str]
) -> None:
    """The docs page's program, served, called exactly as the page calls it."""
    monkeypatch.setenv("MELLEA_BACKEND", "openai")
    monkeypatch.setenv("OPENAI_BASE_URL", loopback.openai_base_url)
    url = serve_program(EXAMPLE)
    response = client(url).chat.completions.create(
        model="mellea",
        messages=[{"role": "user", "content": "Summarize this in one sentence."}],
    )
    assert response.choices[0].message.content.startswith("Echo: Summarize this in one sentence.")
    assert response.choices[0].finish_reason == "stop" and response.model == "mellea"
    (request,) = loopback.stats().for_path(PATH)  # one attempt: under 50 words passed
    assert "Keep this under 50 words" in request.body["messages"][-1]["content"]
    # the ChatContext session carries history into the next turn
    client(url).chat.completions.create(
        model="mellea", messages=[{"role": "user", "content": "And now in French."}]
    )
    second = loopback.stats().for_path(PATH)[-1].body["messages"]
    assert "Summarize this in one sentence." in json.dumps(second)


def test_sync_client(loopback: LoopbackServer, serve_program: Callable[..., str]) -> None:
    seen: list[dict[str, Any]] = []
    url = serve_program(echo_program(loopback, seen))
    response = client(url).chat.completions.create(
        model="routing/model-7",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"}],
        temperature=0.3, max_tokens=64, seed=7, stop=["\n\n"], top_p=0.9, user="u-1",
        extra_body={"requirements": ["Be kind."], "custom_field": 1},
    )  # fmt: skip
    assert response.choices[0].message.content == "Echo: Hi there"
    assert response.model == "routing/model-7"  # echoed
    assert response.object == "chat.completion" and response.id.startswith("chatcmpl-")
    assert response.usage is not None and response.usage.total_tokens > 0
    (call,) = seen
    assert [m.role for m in call["input"]] == ["system", "user"]
    assert call["requirements"] == ["Be kind."]
    assert call["model_options"] == {
        ModelOption.TEMPERATURE: 0.3, ModelOption.MAX_NEW_TOKENS: 64, ModelOption.SEED: 7,
        ModelOption.STOP_SEQUENCES: ["\n\n"], "top_p": 0.9,
    }  # fmt: skip  # the model string, user and unknown fields never enter model_options
    raw = call["client_options"]
    assert raw["model"] == "routing/model-7" and raw["user"] == "u-1" and raw["custom_field"] == 1
    assert call["format"] is None
    sent = loopback.stats().for_path(PATH)[0].body
    assert sent["temperature"] == 0.3 and sent["max_tokens"] == 64 and sent["seed"] == 7


async def test_async_streaming_deltas_join_to_the_answer(
    loopback: LoopbackServer, serve_program: Callable[..., str]
) -> None:
    loopback.configure(token_delay=0.03)
    url = serve_program(echo_program(loopback))
    messages: Any = [{"role": "user", "content": "one two three four five six seven"}]
    sdk = aclient(url)
    whole = await sdk.chat.completions.create(model="m", messages=messages)
    stream = await sdk.chat.completions.create(
        model="m", messages=messages, stream=True, stream_options={"include_usage": True}
    )
    deltas, finish, usage, roles = [], None, None, []
    async for chunk in stream:
        assert chunk.object == "chat.completion.chunk" and chunk.model == "m"
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            roles.append(choice.delta.role)
            if choice.delta.content:
                deltas.append(choice.delta.content)
            finish = choice.finish_reason or finish
    assert len(deltas) >= 5  # really streamed, token by token
    assert "".join(deltas) == whole.choices[0].message.content == "Echo: " + messages[0]["content"]
    assert roles[0] == "assistant" and finish == "stop"
    assert usage is not None and usage.completion_tokens > 0
    assert loopback.stats().for_path(PATH)[-1].body["stream"] is True  # streamed end to end
    await sdk.close()


def test_stream_without_include_usage_has_no_usage(
    loopback: LoopbackServer, serve_program: Callable[..., str]
) -> None:
    url = serve_program(echo_program(loopback))
    chunks = list(
        client(url).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hey"}], stream=True
        )
    )
    assert all(c.usage is None for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Echo: hey"


TOOLS: Any = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]


@pytest.mark.parametrize("stream", [False, True])
def test_tools(stream: bool, loopback: LoopbackServer, serve_program: Callable[..., str]) -> None:
    loopback.enqueue(Reply(tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}]))
    url = serve_program(echo_program(loopback))
    kwargs: Any = {
        "model": "m", "messages": [{"role": "user", "content": "Weather in Paris?"}],
        "tools": TOOLS, "tool_choice": "required",
    }  # fmt: skip
    if stream:
        calls: dict[int, dict[str, str]] = {}
        finish = None
        for chunk in client(url).chat.completions.create(stream=True, **kwargs):
            for choice in chunk.choices:
                finish = choice.finish_reason or finish
                for tc in choice.delta.tool_calls or []:
                    entry = calls.setdefault(tc.index, {"name": "", "arguments": "", "id": ""})
                    entry["id"] += tc.id or ""
                    entry["name"] += (tc.function.name or "") if tc.function else ""
                    entry["arguments"] += (tc.function.arguments or "") if tc.function else ""
        (call,) = calls.values()
        name, arguments, call_id = call["name"], call["arguments"], call["id"]
    else:
        response = client(url).chat.completions.create(**kwargs)
        finish = response.choices[0].finish_reason
        (tool_call,) = response.choices[0].message.tool_calls or []
        name, arguments, call_id = (
            tool_call.function.name, tool_call.function.arguments, tool_call.id,
        )  # fmt: skip
    assert finish == "tool_calls" and name == "get_weather" and call_id
    assert json.loads(arguments) == {"city": "Paris"}
    sent = loopback.stats().for_path(PATH)[0].body
    assert sent["tools"][0]["function"]["name"] == "get_weather"
    assert sent["tools"][0]["function"]["parameters"]["required"] == ["city"]
    assert sent["tool_choice"] == "required"


class Person(BaseModel):
    name: str
    age: int


def test_response_format_json_schema_parsed(
    loopback: LoopbackServer, serve_program: Callable[..., str]
) -> None:
    seen: list[dict[str, Any]] = []
    url = serve_program(echo_program(loopback, seen))
    completion = client(url).chat.completions.parse(
        model="m", messages=[{"role": "user", "content": "Invent a person."}],
        response_format=Person,
    )  # fmt: skip
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, Person) and parsed == Person(name="x", age=1)
    fmt = seen[0]["format"]
    assert fmt.model_json_schema()["required"] == ["name", "age"]  # the client's schema
    sent = loopback.stats().for_path(PATH)[0].body["response_format"]
    assert sent["type"] == "json_schema"
    assert sent["json_schema"]["schema"]["properties"]["age"]["type"] == "integer"


def test_response_format_json_object(
    loopback: LoopbackServer, serve_program: Callable[..., str]
) -> None:
    url = serve_program(echo_program(loopback))
    response = client(url).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "JSON please"}],
        response_format={"type": "json_object"},
    )  # fmt: skip
    assert isinstance(json.loads(response.choices[0].message.content or ""), dict)


def test_answer_not_matching_the_schema_is_an_error(
    loopback: LoopbackServer, serve_program: Callable[..., str]
) -> None:
    session = loopback_session(loopback)

    def serve(input: Any, requirements: Any, model_options: Any, format: Any) -> Any:
        return session.instruct(input[-1].content, strategy=None)  # ignores format

    url = serve_program(serve)
    with pytest.raises(openai.InternalServerError, match="does not match response_format"):
        client(url).chat.completions.parse(
            model="m", messages=[{"role": "user", "content": "hi"}], response_format=Person
        )


def test_image_parts_are_passed_through(
    loopback: LoopbackServer, serve_program: Callable[..., str]
) -> None:
    seen: list[dict[str, Any]] = []
    url = serve_program(echo_program(loopback, seen))
    data_uri = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    client(url).chat.completions.create(
        model="m",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in"},
                    {"type": "image_url", "image_url": {"url": data_uri, "detail": "low"}},
                    {"type": "text", "text": "this picture?"},
                ],
            }
        ],
    )
    message = seen[0]["input"][0]
    assert isinstance(message.content[0], TextContent)
    assert isinstance(message.content[1], ImageUrlContent)
    assert message.content[1].image_url == {"url": data_uri, "detail": "low"}
    assert message.get_image_urls() == [data_uri]
    (block,) = message.get_image_blocks()
    assert isinstance(block, ImageBlock) and data_uri.endswith(str(block.value))
    assert message.get_text_content() == "What is in this picture?"


def test_models_and_health(loopback: LoopbackServer, serve_program: Callable[..., str]) -> None:
    url = serve_program(echo_program(loopback), model_name="my-program")
    models = client(url).models.list()
    assert [m.id for m in models.data] == ["my-program"]
    import httpx

    assert httpx.get(f"{url}/health").json()["status"] == "pass"


def test_chat_message_and_str_results(
    loopback: LoopbackServer, serve_program: Callable[..., str]
) -> None:
    session = loopback_session(loopback)

    def serve(input: list[ChatMessage], requirements: Any, model_options: Any) -> Any:
        text = input[-1].get_text_content()
        return text.upper() if text.startswith("shout") else session.chat(text)

    url = serve_program(serve)
    ask = client(url).chat.completions.create
    assert (
        ask(model="m", messages=[{"role": "user", "content": "hey"}]).choices[0].message.content
        == "Echo: hey"
    )
    shouted = ask(model="m", messages=[{"role": "user", "content": "shout it"}])
    assert shouted.choices[0].message.content == "SHOUT IT" and shouted.usage is None
