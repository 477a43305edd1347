"""Tests of the loopback LLM server itself, with httpx as the client."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.servers import LoopbackError, LoopbackServer, Reply, json_instance, tokenize_words
from tests.servers import fixtures as _fixtures

pytestmark = pytest.mark.timeout(30)

loopback = _fixtures.loopback
loopback_session = _fixtures.loopback_session

OLLAMA = "/api/chat"
OPENAI = "/v1/chat/completions"


def chat(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": text}], **extra}


def ndjson(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line]


def sse(text: str) -> list[Any]:
    """SSE data payloads, parsed; ``"[DONE]"`` kept as a string."""
    assert text.endswith("\n\n")
    out: list[Any] = []
    for event in text.split("\n\n")[:-1]:
        assert event.startswith("data: "), event
        payload = event[len("data: ") :]
        out.append(payload if payload == "[DONE]" else json.loads(payload))
    return out


def ollama_stream_text(lines: list[dict[str, Any]]) -> str:
    return "".join(line["message"]["content"] for line in lines)


def openai_content(events: list[Any]) -> list[str]:
    return [
        e["choices"][0]["delta"]["content"]
        for e in events
        if isinstance(e, dict) and e["choices"] and e["choices"][0]["delta"].get("content")
    ]


@pytest.fixture
def client(loopback: LoopbackServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=loopback.url, timeout=5.0) as c:
        yield c


# -- Ollama protocol ---------------------------------------------------------------


def test_ollama_non_streaming_echo(client: httpx.Client) -> None:
    r = client.post(OLLAMA, json=chat("hello  big world", stream=False))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    body = r.json()
    assert body["message"] == {"role": "assistant", "content": "Echo: hello  big world"}
    assert body["model"] == "m" and body["done"] is True and body["done_reason"] == "stop"
    assert body["eval_count"] == 4 and body["prompt_eval_count"] == 3
    assert body["created_at"].endswith("Z")
    for key in ("total_duration", "load_duration", "prompt_eval_duration", "eval_duration"):
        assert isinstance(body[key], int) and body[key] > 0


def test_ollama_streams_ndjson_by_default(client: httpx.Client) -> None:
    r = client.post(OLLAMA, json=chat("one two three"))  # no "stream": Ollama streams
    assert r.headers["content-type"] == "application/x-ndjson"
    assert r.headers["transfer-encoding"] == "chunked"
    lines = ndjson(r.text)
    assert [line["message"]["content"] for line in lines[:-1]] == [
        "Echo: ",
        "one ",
        "two ",
        "three",
    ]
    assert all(line["done"] is False for line in lines[:-1])
    final = lines[-1]
    assert final["done"] is True and final["done_reason"] == "stop"
    assert final["message"] == {"role": "assistant", "content": ""}
    assert final["eval_count"] == 4 and final["prompt_eval_count"] == 3


def test_ollama_generate_and_metadata(loopback: LoopbackServer, client: httpx.Client) -> None:
    r = client.post("/api/generate", json={"model": "gen", "prompt": "a b", "stream": False})
    assert r.json()["response"] == "Echo: a b" and r.json()["done"] is True
    lines = ndjson(client.post("/api/generate", json={"model": "gen", "prompt": "a b"}).text)
    assert "".join(line["response"] for line in lines) == "Echo: a b"
    assert client.get("/").text == "Ollama is running"
    assert client.head("/").status_code == 200
    assert client.get("/api/version").json()["version"].startswith("0.")
    client.post(OLLAMA, json=chat("x", model="granite3.3:8b", stream=False))
    names = [m["name"] for m in client.get("/api/tags").json()["models"]]
    assert "granite3.3:8b" in names and "loopback" in names
    assert "details" in client.post("/api/show", json={"model": "granite3.3:8b"}).json()
    assert client.get("/api/nope").status_code == 404
    assert client.get(OLLAMA).status_code == 405
    kinds = {r.path: r.reply_kind for r in loopback.stats().requests}
    assert kinds["/api/generate"] == "default" and kinds["/api/tags"] == "meta"


def test_ollama_bad_requests(client: httpx.Client) -> None:
    r = client.post(OLLAMA, content=b"{not json")
    assert r.status_code == 400 and "error" in r.json()
    r = client.post(OLLAMA, json={"messages": []})
    assert r.status_code == 400 and r.json() == {"error": "model is required"}


# -- OpenAI protocol ---------------------------------------------------------------


def test_openai_non_streaming_echo(client: httpx.Client) -> None:
    r = client.post(OPENAI, json=chat("hi there"))  # OpenAI: stream defaults to false
    body = r.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    choice = body["choices"][0]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"] == "Echo: hi there"
    assert "tool_calls" not in choice["message"]
    assert body["usage"] == {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}


def test_openai_streaming_with_usage(client: httpx.Client) -> None:
    body = chat("hi there", stream=True, stream_options={"include_usage": True})
    r = client.post(OPENAI, json=body)
    assert r.headers["content-type"].startswith("text/event-stream")
    events = sse(r.text)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert openai_content(chunks) == ["Echo: ", "hi ", "there"]
    finish = chunks[-2]["choices"][0]
    assert finish["delta"] == {} and finish["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}
    assert all(c["usage"] is None for c in chunks[:-1])

    plain = sse(client.post(OPENAI, json=chat("hi", stream=True)).text)
    assert all("usage" not in c for c in plain[:-1])
    assert plain[-2]["choices"][0]["finish_reason"] == "stop"


def test_openai_models_and_errors(client: httpx.Client) -> None:
    data = client.get("/v1/models").json()
    assert data["object"] == "list" and data["data"][0]["object"] == "model"
    r = client.post(OPENAI, json={"model": "m"})
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    assert client.get("/v1/nope").json()["error"]["message"]


# -- default replies -----------------------------------------------------------------


def test_tokens_n_default(loopback: LoopbackServer, client: httpx.Client) -> None:
    loopback.configure(tokens=4)
    lines = ndjson(client.post(OLLAMA, json=chat("ignored")).text)
    assert [line["message"]["content"] for line in lines[:-1]] == [
        "tok0 ",
        "tok1 ",
        "tok2 ",
        "tok3",
    ]
    assert lines[-1]["eval_count"] == 4
    events = sse(client.post(OPENAI, json=chat("ignored", stream=True)).text)
    assert openai_content(events) == ["tok0 ", "tok1 ", "tok2 ", "tok3"]
    loopback.configure(tokens=None)
    assert client.post(OPENAI, json=chat("back")).json()["choices"][0]["message"]["content"] == (
        "Echo: back"
    )


def test_echo_tokens_concatenate_exactly() -> None:
    for text in ["Echo: a  b\n c ", "Echo: ", "Echo: x\t\ty"]:
        assert "".join(tokenize_words(text)) == text


def test_max_tokens_and_stop(loopback: LoopbackServer, client: httpx.Client) -> None:
    loopback.configure(tokens=6)
    r = client.post(OPENAI, json=chat("x", max_tokens=2)).json()
    assert r["choices"][0]["message"]["content"] == "tok0 tok1 "
    assert r["choices"][0]["finish_reason"] == "length" and r["usage"]["completion_tokens"] == 2
    r = client.post(OPENAI, json=chat("x", max_completion_tokens=6)).json()
    assert r["choices"][0]["finish_reason"] == "stop"
    r = client.post(OPENAI, json=chat("x", stop=["k3", "tok5"])).json()
    assert r["choices"][0]["message"]["content"] == "tok0 tok1 tok2 to"
    assert r["choices"][0]["finish_reason"] == "stop"
    events = sse(client.post(OPENAI, json=chat("x", stream=True, max_tokens=3)).text)
    assert openai_content(events) == ["tok0 ", "tok1 ", "tok2 "]
    assert events[-2]["choices"][0]["finish_reason"] == "length"

    lines = ndjson(client.post(OLLAMA, json=chat("x", options={"num_predict": 2})).text)
    assert ollama_stream_text(lines) == "tok0 tok1 " and lines[-1]["done_reason"] == "length"
    body = chat("x", stream=False, options={"stop": ["tok2"]})
    r = client.post(OLLAMA, json=body).json()
    assert r["message"]["content"] == "tok0 tok1 " and r["done_reason"] == "stop"


SCHEMA: dict[str, Any] = {
    "$defs": {
        "Color": {"enum": ["red", "green"], "type": "string"},
        "Point": {
            "properties": {"x": {"type": "integer"}, "y": {"type": "number"}},
            "required": ["x", "y"],
            "type": "object",
        },
    },
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 18},
        "score": {"type": "number"},
        "ok": {"type": "boolean"},
        "tags": {"items": {"type": "string"}, "type": "array"},
        "color": {"$ref": "#/$defs/Color"},
        "kind": {"const": "person", "type": "string"},
        "where": {"$ref": "#/$defs/Point"},
        "maybe": {"anyOf": [{"$ref": "#/$defs/Point"}, {"type": "null"}], "default": None},
        "when": {"type": "string", "format": "date-time"},
    },
    "required": ["name", "age", "score", "ok", "tags", "color", "kind", "where"],
    "title": "Person",
    "type": "object",
}
EXPECTED = {
    "name": "x",
    "age": 18,
    "score": 1.0,
    "ok": True,
    "tags": ["x"],
    "color": "red",
    "kind": "person",
    "where": {"x": 1, "y": 1.0},
    "maybe": {"x": 1, "y": 1.0},
    "when": "2024-01-01T00:00:00Z",
}


def test_json_instance_rules() -> None:
    assert json_instance(SCHEMA) == EXPECTED
    node = {"type": "object", "properties": {"next": {"$ref": "#"}}, "required": []}
    assert json_instance(node)["next"]["next"]["next"] is not None  # recursion terminates
    merged = {"allOf": [{"properties": {"a": {"type": "integer"}}}, {"properties": {"b": {}}}]}
    assert json_instance(merged) == {"a": 1, "b": "x"}
    assert json_instance({"type": ["null", "integer"], "maximum": -3}) == -3
    assert json_instance({"type": "array", "prefixItems": [{"type": "boolean"}]}) == [True]
    assert json_instance({"type": "string", "minLength": 3}) == "xxx"


def test_json_mode_defaults(client: httpx.Client) -> None:
    r = client.post(OLLAMA, json=chat("x", stream=False, format=SCHEMA)).json()
    assert json.loads(r["message"]["content"]) == EXPECTED
    lines = ndjson(client.post(OLLAMA, json=chat("x", format=SCHEMA)).text)
    assert len(lines) > 4 and json.loads(ollama_stream_text(lines)) == EXPECTED
    r = client.post(OLLAMA, json=chat("x", stream=False, format="json")).json()
    assert json.loads(r["message"]["content"]) == {}

    fmt = {"type": "json_schema", "json_schema": {"name": "P", "schema": SCHEMA, "strict": True}}
    r = client.post(OPENAI, json=chat("x", response_format=fmt)).json()
    assert json.loads(r["choices"][0]["message"]["content"]) == EXPECTED
    events = sse(client.post(OPENAI, json=chat("x", stream=True, response_format=fmt)).text)
    assert json.loads("".join(openai_content(events))) == EXPECTED
    r = client.post(OPENAI, json=chat("x", response_format={"type": "json_object"})).json()
    assert json.loads(r["choices"][0]["message"]["content"]) == {}
    fmt = {"type": "json_object", "schema": SCHEMA}  # llama.cpp's extension
    r = client.post(OPENAI, json=chat("x", response_format=fmt)).json()
    assert json.loads(r["choices"][0]["message"]["content"]) == EXPECTED


def test_reject_json_schema_like_llama_cpp(loopback: LoopbackServer, client: httpx.Client) -> None:
    schema_fmt = {"type": "json_schema", "json_schema": {"name": "P", "schema": SCHEMA}}
    object_fmt = {"type": "json_object", "schema": SCHEMA}
    loopback.enqueue(Reply(reject_json_schema=True))
    r = client.post(OPENAI, json=chat("x", response_format=schema_fmt))
    assert r.status_code == 500
    assert r.json()["error"]["type"] == "server_error"
    assert "json_schema" in r.json()["error"]["message"]
    assert client.post(OPENAI, json=chat("x", response_format=schema_fmt)).status_code == 200

    loopback.configure(reject_json_schema=True)
    assert client.post(OPENAI, json=chat("x", response_format=schema_fmt)).status_code == 500
    r = client.post(OPENAI, json=chat("x", response_format=object_fmt))
    assert r.status_code == 200
    assert json.loads(r.json()["choices"][0]["message"]["content"]) == EXPECTED


# -- scripted replies ---------------------------------------------------------------


def _ollama_text(client: httpx.Client, text: str, **extra: Any) -> str:
    r = client.post(OLLAMA, json=chat(text, stream=False, **extra))
    return str(r.json()["message"]["content"])


def test_scripted_fifo_match_and_times(loopback: LoopbackServer, client: httpx.Client) -> None:
    loopback.enqueue(
        Reply(text="first", times=2),
        Reply(text="for-cats", match="cat"),
        Reply(text="second"),
    )
    assert loopback.stats().pending_replies == 3
    assert _ollama_text(client, "a cat here") == "for-cats"
    assert _ollama_text(client, "dog") == "first"
    assert _ollama_text(client, "cat again") == "first"  # the match reply was used up
    assert _ollama_text(client, "dog") == "second"
    assert _ollama_text(client, "dog") == "Echo: dog"
    kinds = [r.reply_kind for r in loopback.stats().requests]
    assert kinds == ["scripted"] * 4 + ["default"]

    # A match reply is never taken by a request that doesn't match; "any message"
    # is the fallback to the last user message.
    loopback.enqueue(Reply(text="sys", match="SYSTEM-TAG"), Reply(text="fifo"))
    assert _ollama_text(client, "plain") == "fifo"
    assert _ollama_text(client, "plain") == "Echo: plain"
    messages = [{"role": "system", "content": "SYSTEM-TAG"}, {"role": "user", "content": "q"}]
    r = client.post(OLLAMA, json={"model": "m", "messages": messages, "stream": False})
    assert r.json()["message"]["content"] == "sys"

    loopback.enqueue(Reply(text="always", times=-1))
    assert {_ollama_text(client, "x") for _ in range(3)} == {"always"}
    assert loopback.stats().pending_replies == 1


def test_scripted_chunks_are_exact(loopback: LoopbackServer, client: httpx.Client) -> None:
    chunks = ["Hel", "lo, ", "wor", "ld!"]
    loopback.enqueue(Reply(chunks=chunks), Reply(chunks=chunks), Reply(chunks=chunks))
    lines = ndjson(client.post(OLLAMA, json=chat("x")).text)
    assert [line["message"]["content"] for line in lines[:-1]] == chunks
    assert openai_content(sse(client.post(OPENAI, json=chat("x", stream=True)).text)) == chunks
    r = client.post(OPENAI, json=chat("x")).json()
    assert r["choices"][0]["message"]["content"] == "Hello, world!"


def test_scripted_overrides(loopback: LoopbackServer, client: httpx.Client) -> None:
    loopback.enqueue(
        Reply(
            text="a b c", finish_reason="length", usage={"prompt_tokens": 7, "completion_tokens": 9}
        )
    )
    r = client.post(OPENAI, json=chat("x")).json()
    assert r["choices"][0]["finish_reason"] == "length"
    assert r["usage"] == {"prompt_tokens": 7, "completion_tokens": 9, "total_tokens": 16}


def test_reply_json_and_validation(loopback: LoopbackServer) -> None:
    reply = Reply(text="t", stall_after_chunks=(1, 0.5), headers={"X-A": "1"})
    assert Reply.from_json(json.loads(json.dumps(reply.to_json()))) == reply
    with pytest.raises(ValueError):
        Reply(text="a", chunks=["a"])
    with pytest.raises(ValueError):
        Reply(times=0)
    with pytest.raises(ValueError):
        loopback.enqueue({"txt": "typo"})
    with pytest.raises(LoopbackError):
        loopback.configure(ttft=-1)


# -- tool calls -----------------------------------------------------------------------

CALLS = [
    {"name": "get_weather", "arguments": {"city": "Paris", "days": 2}},
    {"name": "add", "arguments": {"a": 1, "b": [2, 3]}},
]


def test_tool_calls_ollama(loopback: LoopbackServer, client: httpx.Client) -> None:
    loopback.enqueue(Reply(tool_calls=CALLS), Reply(tool_calls=CALLS, text="Let me check."))
    msg = client.post(OLLAMA, json=chat("x", stream=False)).json()["message"]
    assert msg["content"] == ""
    assert [c["function"]["name"] for c in msg["tool_calls"]] == ["get_weather", "add"]
    assert msg["tool_calls"][0]["function"]["arguments"] == {"city": "Paris", "days": 2}
    lines = ndjson(client.post(OLLAMA, json=chat("x")).text)
    assert ollama_stream_text(lines) == "Let me check."
    with_calls = [line for line in lines if "tool_calls" in line["message"]]
    assert len(with_calls) == 1 and with_calls[0]["done"] is False
    calls = with_calls[0]["message"]["tool_calls"]
    assert [c["function"]["arguments"] for c in calls] == [c["arguments"] for c in CALLS]
    assert lines[-1]["done"] is True and lines[-1]["done_reason"] == "stop"


def test_tool_calls_openai(loopback: LoopbackServer, client: httpx.Client) -> None:
    loopback.enqueue(Reply(tool_calls=CALLS), Reply(tool_calls=CALLS))
    choice = client.post(OPENAI, json=chat("x")).json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    calls = choice["message"]["tool_calls"]
    assert [c["type"] for c in calls] == ["function", "function"]
    assert [json.loads(c["function"]["arguments"]) for c in calls] == [
        c["arguments"] for c in CALLS
    ]
    assert all(c["id"].startswith("call_") for c in calls)

    chunks = sse(client.post(OPENAI, json=chat("x", stream=True)).text)[:-1]
    assembled: dict[int, dict[str, Any]] = {}
    tool_chunks = 0
    for chunk in chunks:
        for tc in chunk["choices"][0]["delta"].get("tool_calls", []):
            tool_chunks += 1
            slot = assembled.setdefault(tc["index"], {"name": "", "arguments": "", "id": None})
            if "id" in tc:
                slot["id"] = tc["id"]
                assert tc["type"] == "function"
            slot["name"] += tc["function"].get("name", "")
            slot["arguments"] += tc["function"].get("arguments", "")
    assert tool_chunks > 2 * len(CALLS)  # arguments arrive split over several chunks
    assert [(s["name"], json.loads(s["arguments"])) for s in assembled.values()] == [
        (c["name"], c["arguments"]) for c in CALLS
    ]
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


# -- faults -----------------------------------------------------------------------------


def test_status_faults(loopback: LoopbackServer, client: httpx.Client) -> None:
    loopback.enqueue(
        Reply(status=429, headers={"Retry-After": "1"}),
        Reply(status=503, headers={"Retry-After": "2"}),
        Reply(status=404, error_body="model 'zz' not found"),
        Reply(status=400, error_body={"detail": "custom"}),
    )
    r = client.post(OLLAMA, json=chat("x"))
    assert r.status_code == 429 and r.headers["retry-after"] == "1"
    assert isinstance(r.json()["error"], str)
    r = client.post(OPENAI, json=chat("x", stream=True))
    assert r.status_code == 503 and r.headers["retry-after"] == "2"
    assert set(r.json()["error"]) >= {"message", "type", "code"}
    r = client.post(OPENAI, json=chat("x"))
    assert r.status_code == 404 and r.json()["error"]["message"] == "model 'zz' not found"
    assert r.json()["error"]["code"] == "model_not_found"
    r = client.post(OLLAMA, json=chat("x"))
    assert r.status_code == 400 and r.json() == {"detail": "custom"}
    assert [rec.status for rec in loopback.stats().requests] == [429, 503, 404, 400]


def test_stall_before_headers_trips_client_timeout(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(stall_before_headers=2.0))
    t0 = time.monotonic()
    with httpx.Client(base_url=loopback.url, timeout=0.2) as c, pytest.raises(httpx.ReadTimeout):
        c.post(OPENAI, json=chat("x"))
    assert time.monotonic() - t0 < 1.0
    stats = loopback.wait_idle()
    assert stats.requests[0].client_disconnected and stats.requests[0].first_byte is None
    assert stats.disconnects == 1


def test_stall_after_chunks(loopback: LoopbackServer) -> None:
    loopback.configure(tokens=6)
    loopback.enqueue(Reply(stall_after_chunks=(2, 2.0)))
    got: list[dict[str, Any]] = []
    with httpx.Client(base_url=loopback.url, timeout=0.3) as c:
        with pytest.raises(httpx.ReadTimeout), c.stream("POST", OLLAMA, json=chat("x")) as r:
            for line in r.iter_lines():
                got.append(json.loads(line))
    assert [g["message"]["content"] for g in got] == ["tok0 ", "tok1 "]


def test_stall_then_resume(loopback: LoopbackServer, client: httpx.Client) -> None:
    loopback.enqueue(Reply(text="a b c", stall_after_chunks=(1, 0.2)))
    t0 = time.monotonic()
    events = sse(client.post(OPENAI, json=chat("x", stream=True)).text)
    assert time.monotonic() - t0 >= 0.2
    assert "".join(openai_content(events)) == "a b c"


@pytest.mark.parametrize("path", [OLLAMA, OPENAI])
def test_drop_after_chunks(loopback: LoopbackServer, client: httpx.Client, path: str) -> None:
    loopback.configure(tokens=5)
    loopback.enqueue(Reply(drop_after_chunks=2), Reply(drop_after_chunks=0))
    lines: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError):
        with client.stream("POST", path, json=chat("x", stream=True)) as r:
            assert r.status_code == 200
            for line in r.iter_lines():
                if line:
                    lines.append(line)
    assert len(lines) == 2 + (path == OPENAI)  # + the OpenAI role preamble
    with pytest.raises(httpx.RemoteProtocolError):  # non-streaming: body cut short
        client.post(path, json=chat("x", stream=False))
    assert client.post(path, json=chat("x", stream=False)).status_code == 200
    stats = loopback.stats()
    assert stats.disconnects == 0  # a server-side drop is not a client disconnect
    assert stats.requests[0].status == 200 and stats.requests[0].finished is not None


def test_malformed_after_chunks(loopback: LoopbackServer, client: httpx.Client) -> None:
    loopback.configure(tokens=4)
    loopback.enqueue(Reply(malformed_after_chunks=2), Reply(malformed_after_chunks=1))
    raw = client.post(OLLAMA, json=chat("x")).text.splitlines()
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw[2])
    good = [json.loads(line) for i, line in enumerate(raw) if i != 2]
    assert ollama_stream_text(good) == "tok0 tok1 tok2 tok3" and good[-1]["done"] is True

    events = client.post(OPENAI, json=chat("x", stream=True)).text.split("\n\n")
    bad = [e for e in events if e.startswith("data: {")]
    broken = [e for e in bad if not _is_json(e[len("data: ") :])]
    assert len(broken) == 1 and events.index(broken[0]) == 2  # role, tok0, <broken>
    assert events[-2] == "data: [DONE]"

    loopback.enqueue(Reply(malformed_after_chunks=0))
    r = client.post(OPENAI, json=chat("x"))
    assert r.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        r.json()


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def test_kill_after_chunks_subprocess() -> None:
    srv = LoopbackServer(tokens=5).spawn()
    try:
        srv.enqueue(Reply(kill_after_chunks=2))
        lines = []
        with httpx.Client(base_url=srv.url, timeout=5.0) as c:
            with (
                pytest.raises(httpx.RemoteProtocolError),
                c.stream("POST", OLLAMA, json=chat("x")) as r,
            ):
                for line in r.iter_lines():
                    lines.append(line)
            assert len(lines) == 2
            deadline = time.monotonic() + 5
            while srv.returncode is None and time.monotonic() < deadline:
                time.sleep(0.01)
            assert srv.returncode == 3 and not srv.is_alive()
            with pytest.raises(httpx.ConnectError):
                c.get("/api/version")
    finally:
        srv.stop()
    assert srv.mode is None


def test_kill_after_chunks_thread_mode_drops_all_clients(loopback: LoopbackServer) -> None:
    loopback.configure(tokens=5, token_delay=0.05)
    loopback.enqueue(Reply(kill_after_chunks=1, match="victim"))
    with (
        httpx.Client(base_url=loopback.url, timeout=5.0) as c1,
        httpx.Client(base_url=loopback.url, timeout=5.0) as c2,
    ):
        errors: list[BaseException] = []

        def bystander() -> None:
            try:
                c2.post(OLLAMA, json=chat("bystander"))
            except httpx.HTTPError as exc:
                errors.append(exc)

        t = threading.Thread(target=bystander)
        t.start()
        time.sleep(0.05)
        with pytest.raises(httpx.RemoteProtocolError):
            c1.post(OLLAMA, json=chat("victim"))
        t.join()
        assert len(errors) == 1
        assert c1.get("/api/version").status_code == 200  # still serving


# -- concurrency, timing, disconnects, connections -----------------------------------


async def test_concurrent_requests_overlap(loopback: LoopbackServer) -> None:
    loopback.configure(ttft=0.3)
    async with httpx.AsyncClient(base_url=loopback.url, timeout=5.0) as c:
        t0 = time.monotonic()
        results = await asyncio.gather(*(c.post(OPENAI, json=chat(f"q{i}")) for i in range(10)))
        wall = time.monotonic() - t0
    assert [r.json()["choices"][0]["message"]["content"] for r in results] == [
        f"Echo: q{i}" for i in range(10)
    ]
    assert 0.3 <= wall < 0.7
    stats = loopback.stats()
    assert stats.max_in_flight == 10 and stats.in_flight == 0
    assert stats.max_open_connections == 10 and stats.total_requests == 10


def test_timing_fields(loopback: LoopbackServer, client: httpx.Client) -> None:
    loopback.configure(ttft=0.1, token_delay=0.03, tokens=5)
    before = time.monotonic()
    client.post(OLLAMA, json=chat("x"))
    client.post(OLLAMA, json=chat("x", stream=False))
    stream_rec, whole_rec = loopback.stats().requests
    assert before <= stream_rec.started  # same clock as the test process
    assert stream_rec.first_byte is not None and stream_rec.finished is not None
    assert 0.09 <= stream_rec.first_byte - stream_rec.started < 0.2
    assert 0.09 + 4 * 0.03 <= stream_rec.finished - stream_rec.started < 0.45
    assert whole_rec.first_byte is not None and whole_rec.finished is not None
    assert 0.1 + 5 * 0.03 - 0.01 <= whole_rec.first_byte - whole_rec.started < 0.5
    assert whole_rec.headers["content-type"] == "application/json"
    assert whole_rec.body["stream"] is False and whole_rec.status == 200


def test_reply_timing_overrides(loopback: LoopbackServer, client: httpx.Client) -> None:
    loopback.configure(ttft=0.3, tokens=3)
    loopback.enqueue(Reply(ttft=0.0, token_delay=0.05), Reply(status=503))
    client.post(OLLAMA, json=chat("x"))
    t0 = time.monotonic()
    assert client.post(OLLAMA, json=chat("x")).status_code == 503
    assert time.monotonic() - t0 < 0.2  # errors skip the server-wide ttft
    rec = loopback.stats().requests[0]
    assert rec.first_byte is not None and rec.finished is not None
    assert rec.first_byte - rec.started < 0.1
    assert 0.1 <= rec.finished - rec.started < 0.3


async def test_client_disconnect_is_detected(loopback: LoopbackServer) -> None:
    loopback.configure(tokens=100, token_delay=0.02)
    async with httpx.AsyncClient(base_url=loopback.url, timeout=5.0) as c:
        async with c.stream("POST", OPENAI, json=chat("x", stream=True)) as r:
            seen = 0
            async for _line in r.aiter_lines():
                seen += 1
                if seen == 4:
                    break
    stats = loopback.wait_for(lambda s: s.disconnects == 1)
    rec = stats.requests[0]
    assert rec.client_disconnected and stats.in_flight == 0
    assert rec.finished is not None and rec.finished - rec.started < 1.0  # not all 100 tokens


def test_keep_alive_and_connection_close(loopback: LoopbackServer, client: httpx.Client) -> None:
    for i in range(5):
        client.post(OLLAMA, json=chat(str(i), stream=bool(i % 2)))
    stats = loopback.stats()
    assert len({r.connection_id for r in stats.requests}) == 1
    assert stats.total_connections == 1 and stats.open_connections == 1
    r = client.post(OLLAMA, json=chat("bye", stream=False), headers={"Connection": "close"})
    assert r.headers["connection"] == "close"
    client.get("/api/version")
    stats = loopback.wait_for(lambda s: s.total_connections == 2)
    assert stats.requests[-2].connection_id != stats.requests[-1].connection_id


def test_control_calls_are_not_counted(loopback: LoopbackServer, client: httpx.Client) -> None:
    for _ in range(3):
        loopback.stats()
    client.get("/api/version")
    stats = loopback.stats()
    assert stats.total_requests == 1 and stats.total_connections == 1
    loopback.configure(tokens=2)
    loopback.enqueue(Reply(text="q"))
    loopback.reset()
    stats = loopback.stats()
    assert stats.total_requests == 0 and stats.requests == [] and stats.pending_replies == 0
    assert stats.open_connections == 1  # a gauge survives reset
    assert _ollama_text(client, "after reset") == "Echo: after reset"


def test_record_requests_can_be_disabled(loopback: LoopbackServer, client: httpx.Client) -> None:
    loopback.configure(record_requests=False)
    client.get("/api/version")
    stats = loopback.stats()
    assert stats.total_requests == 1 and stats.requests == []


def test_raw_http_details(loopback: LoopbackServer) -> None:
    body = json.dumps(chat("raw", stream=False)).encode()
    with socket.create_connection(("127.0.0.1", loopback.port), timeout=5) as s:
        # Two pipelined requests, the second with a chunked request body.
        req1 = b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%b" % (
            len(body),
            body,
        )
        half = len(body) // 2
        req2 = (
            b"POST /api/chat HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n%x\r\n%b\r\n%x\r\n%b\r\n0\r\n\r\n"
            % (half, body[:half], len(body) - half, body[half:])
        )
        s.sendall(req1 + req2)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.count(b"HTTP/1.1 200 OK\r\n") == 2
    assert data.count(b"Echo: raw") == 2 and data.endswith(b"}")
    with socket.create_connection(("127.0.0.1", loopback.port), timeout=5) as s:
        s.sendall(b"garbage\r\n\r\n")
        assert s.recv(1024).startswith(b"HTTP/1.1 400 ")
    with socket.create_connection(("127.0.0.1", loopback.port), timeout=5) as s:
        head = b"POST /api/chat HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
        s.sendall(head + b"Content-Length: %d\r\n\r\n" % len(body))
        assert s.recv(1024) == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(body)
        assert s.recv(65536).startswith(b"HTTP/1.1 200 OK\r\n")


# -- lifecycle ----------------------------------------------------------------------------


def test_subprocess_mode_start_stop() -> None:
    t0 = time.monotonic()
    srv = LoopbackServer(token_delay=0.0).spawn()
    try:
        assert time.monotonic() - t0 < 1.5
        assert srv.mode == "subprocess" and srv.pid is not None and srv.is_alive()
        assert srv.host_port == f"127.0.0.1:{srv.port}"
        assert srv.openai_base_url == f"{srv.url}/v1"
        srv.enqueue(Reply(text="from the subprocess"))
        with httpx.Client(base_url=srv.url) as c:
            assert _ollama_text(c, "x") == "from the subprocess"
        assert srv.stats().total_requests == 1
    finally:
        srv.stop()
    assert srv.returncode is None and not srv.is_alive()
    srv.stop()  # idempotent


def test_session_fixture(loopback_session: LoopbackServer) -> None:
    loopback_session.reset()
    with httpx.Client(base_url=loopback_session.url) as c:
        assert _ollama_text(c, "s") == "Echo: s"
    assert loopback_session.stats().total_requests == 1
    loopback_session.reset()


def test_thread_mode_leaves_no_thread_behind() -> None:
    before = threading.active_count()
    with LoopbackServer() as srv:
        assert srv.mode == "thread"
        with httpx.Client(base_url=srv.url) as c:
            assert c.get("/api/version").status_code == 200
        with pytest.raises(LoopbackError):
            srv.start()
    assert threading.active_count() == before
    with pytest.raises(LoopbackError):
        srv.stats()


def test_stop_with_streams_in_progress() -> None:
    srv = LoopbackServer(tokens=1000, token_delay=0.01).start()
    with httpx.Client(base_url=srv.url, timeout=5.0) as c:
        with c.stream("POST", OPENAI, json=chat("x", stream=True)) as r:
            lines = r.iter_lines()
            next(lines)
            t0 = time.monotonic()
            srv.stop()
            assert time.monotonic() - t0 < 1.0
            with pytest.raises(httpx.RemoteProtocolError):
                for _ in lines:
                    pass
    assert not srv.is_alive()
