"""The reference's lower-level backend entry points, doing what they say: Ollama's
`is_model_available` / `processing` / `chat_response_delta_merge`, OpenAI's filters and
client arguments, `generate_from_chat_context`, the adapter methods, and the
`openai_compatible_helpers` / `backends.utils` functions."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from mellea.backends import ModelOption
from mellea.backends.ollama import OllamaModelBackend, chat_response_delta_merge
from mellea.backends.openai import OpenAIBackend
from mellea.backends.tools import MelleaTool
from mellea.backends.utils import (
    get_value,
    populate_response_metadata_openai_shape,
    to_chat,
    to_tool_calls,
)
from mellea.core import ModelOutputThunk, ModelToolCall
from mellea.core.errors import BackendUnavailableError, InvalidOptionError
from mellea.helpers.openai_compatible_helpers import (
    OPENAI_COMPATIBLE_WIRE_PROVIDERS,
    CompletionUsage,
    build_completion_usage,
    build_tool_calls,
    chat_completion_delta_merge,
    extract_model_tool_requests,
    has_tool_calls,
    merge_provider_fields,
    message_to_openai_message,
    messages_to_docs,
    prefetch_audio_urls,
    should_replay_reasoning,
)
from mellea.helpers.portal import run_sync
from mellea.stdlib.components import Instruction, Message
from mellea.stdlib.components.docs import Document
from mellea.stdlib.context import ChatContext
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer, Reply


def add(a: int, b: int) -> int:
    """Add."""
    return a + b


TOOLS = {"add": MelleaTool.from_callable(add)}


# ----- Ollama -----------------------------------------------------------------------------


def test_is_model_available(loopback: LoopbackServer) -> None:
    loopback.configure(models=["granite4.1:3b"], strict_models=True)
    backend = OllamaModelBackend("granite4.1:3b", base_url=loopback.url)
    assert backend.is_model_available("granite4.1:3b")
    assert not backend.is_model_available("llama3.2:1b")
    assert backend.base_model_name == "granite4.1:3b"
    with pytest.raises(BackendUnavailableError):
        OllamaModelBackend("m", base_url="http://127.0.0.1:9").is_model_available("m")


def test_ollama_processing_merges_the_stream() -> None:
    backend = OllamaModelBackend("m", base_url="http://127.0.0.1:9")
    mot: ModelOutputThunk[Any] = ModelOutputThunk()
    lines = [
        {"model": "m", "message": {"role": "assistant", "content": "", "thinking": "Hmm."}, "done": False},
        {"model": "m", "message": {"role": "assistant", "content": "4"}, "done": False},
        {"model": "m", "message": {"role": "assistant", "content": "",
         "tool_calls": [{"function": {"name": "add", "arguments": {"a": 2, "b": 2}}}]}, "done": False},
        {"model": "m", "message": {"role": "assistant", "content": ""}, "done": True,
         "done_reason": "stop", "prompt_eval_count": 5, "eval_count": 3},
    ]  # fmt: skip

    async def go() -> None:
        for line in lines:
            await backend.processing(mot, line, TOOLS)

    asyncio.run(go())
    assert mot.partial_value == "4" and mot.generation.extra["thinking"] == "Hmm."
    assert mot.thinking == "Hmm."
    assert mot.generation.usage == {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
    (call,) = (mot.tool_calls or {}).values()
    assert call.name == "add" and call.call_func() == 4
    merged = mot.raw.response
    assert merged["message"]["content"] == "4" and merged["message"]["thinking"] == "Hmm."
    assert (
        merged["done"] and merged["eval_count"] == 3 and len(merged["message"]["tool_calls"]) == 1
    )
    other: ModelOutputThunk[Any] = ModelOutputThunk()
    for line in lines[:2]:
        chat_response_delta_merge(other, line)
    assert other.raw.response["message"]["content"] == "4"


def test_generate_from_chat_context(loopback: LoopbackServer) -> None:
    async def go() -> tuple[Any, Any]:
        ollama = OllamaModelBackend("m", base_url=loopback.url)
        mot = await ollama.generate_from_chat_context(Instruction("Hi"), ChatContext())
        openai = OpenAIBackend("m", base_url=loopback.openai_base_url)
        pair = await openai.generate_from_chat_context(Instruction("Yo"), ChatContext())
        return await mot.avalue(), (await pair[0].avalue(), len(pair[1].as_list()))

    assert run_sync(go()) == ("Echo: Hi", ("Echo: Yo", 2))


def test_adapters_are_refused_clearly() -> None:
    backend = OllamaModelBackend("m", base_url="http://127.0.0.1:9")
    assert backend.list_adapters() == []
    with pytest.raises(NotImplementedError, match="adapters"):
        backend.add_adapter(object())
    with pytest.raises(LookupError, match="answerability"):
        backend.resolve_adapter("answerability")
    with pytest.raises(NotImplementedError, match="adapter_models"):
        OllamaModelBackend("m", adapter_models={"answerability": "m-lora"})
    with pytest.raises(NotImplementedError):
        OpenAIBackend("m", base_url="http://x/v1", load_embedded_adapters=True)
    with pytest.raises(NotImplementedError):
        OpenAIBackend("m", base_url="http://x/v1").register_embedded_adapter_model("repo/x")


# ----- OpenAI -----------------------------------------------------------------------------


def test_openai_client_arguments_and_filters(loopback: LoopbackServer) -> None:
    backend = OpenAIBackend(
        "m", None, loopback.openai_base_url, {ModelOption.SEED: 1},
        organization="org-1", project="proj-2", max_retries=0,
    )  # fmt: skip
    assert backend._http.retry.max_retries == 0
    MelleaSession(backend).instruct("hi")
    headers = loopback.stats().for_path("/v1/chat/completions")[-1].headers
    assert headers["openai-organization"] == "org-1" and headers["openai-project"] == "proj-2"
    with pytest.raises(TypeError, match="unexpected"):
        OpenAIBackend("m", base_url="http://x/v1", not_a_client_arg=1)
    opts = {"temperature": 0.1, "top_p": 0.5, "suffix": "!", "num_ctx": 8, "tools": []}
    assert backend.filter_chat_completions_kwargs(opts) == {
        "temperature": 0.1,
        "top_p": 0.5,
        "tools": [],
    }
    assert backend.filter_completions_kwargs(opts) == {
        "temperature": 0.1,
        "top_p": 0.5,
        "suffix": "!",
    }
    assert OpenAIBackend.filter_openai_client_kwargs(api_key="k", foo=1, timeout=3) == {
        "api_key": "k", "timeout": 3,
    }  # fmt: skip


def test_openai_processing_and_post_processing(loopback: LoopbackServer) -> None:
    backend = OpenAIBackend("m", base_url=loopback.openai_base_url)
    mot: ModelOutputThunk[Any] = ModelOutputThunk()
    chunks = [
        {"id": "r1", "model": "m-2024", "object": "chat.completion.chunk",
         "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Su", "reasoning_content": "think"}}]},
        {"id": "r1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "m: "}}]},
        {"id": "r1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "id": "c9", "type": "function", "function": {"name": "add", "arguments": '{"a": 1,'}}]}}]},
        {"id": "r1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "function": {"arguments": ' "b": 2}'}}]}}]},
        {"id": "r1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ]  # fmt: skip

    async def go() -> None:
        for chunk in chunks:
            await backend.processing(mot, chunk)
        await backend.post_processing(mot, TOOLS, [{"role": "user", "content": "q"}], None, 7, None)

    asyncio.run(go())
    assert mot.partial_value == "Sum: " and mot.thinking == "think"
    assert mot.generation.finish_reasons == ["tool_calls"] and mot.generation.response_id == "r1"
    assert mot.generation.response_model == "m-2024" and mot.generation.extra["seed"] == 7
    (call,) = (mot.tool_calls or {}).values()
    assert (call.name, call.args, call.call_id, call.call_func()) == (
        "add",
        {"a": 1, "b": 2},
        "c9",
        3,
    )
    assert mot.raw.response["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == (
        '{"a": 1, "b": 2}'
    )
    assert mot._prompt == [{"role": "user", "content": "q"}]


# ----- openai_compatible_helpers ----------------------------------------------------------


def test_chat_completion_delta_merge_and_tool_requests() -> None:
    deltas = [
        {"index": 0, "delta": {"role": "assistant", "content": "A"}},
        {"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "x", "function": {"name": "add", "arguments": "{}"}}]}},
        {"index": 0, "delta": {"tool_calls": [{"index": 1, "id": "y", "function": {"name": "add", "arguments": '{"a"'}}]}},
        {"index": 0, "delta": {"tool_calls": [{"index": 1, "function": {"arguments": ': 1, "b": 1}'}}]}},
        {"index": 0, "delta": {}, "finish_reason": "tool_calls"},
    ]  # fmt: skip
    merged = chat_completion_delta_merge(deltas)
    assert merged["finish_reason"] == "tool_calls" and merged["message"]["content"] == "A"
    calls = merged["message"]["tool_calls"]
    assert [c["id"] for c in calls] == ["x", "y"] and calls[1]["function"][
        "arguments"
    ] == '{"a": 1, "b": 1}'
    separate = chat_completion_delta_merge(deltas, force_all_tool_calls_separate=True)
    assert len(separate["message"]["tool_calls"]) == 3
    requests = extract_model_tool_requests(TOOLS, merged)
    assert requests is not None and [r.tool_call_id for r in requests] == ["x", "y"]
    assert requests[1].call_func() == 2
    assert extract_model_tool_requests(TOOLS, {"message": {"content": "no calls"}}) is None


def test_thunk_back_to_the_openai_shape() -> None:
    mot: ModelOutputThunk[Any] = ModelOutputThunk("done")
    assert not has_tool_calls(mot) and build_tool_calls(mot) is None
    assert build_completion_usage(mot) is None
    mot.generation.usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    mot.tool_calls = {"add": ModelToolCall("add", TOOLS["add"], {"a": 1, "b": 2}, "c1")}
    assert build_completion_usage(mot) == CompletionUsage(
        completion_tokens=2, prompt_tokens=3, total_tokens=5
    )
    assert has_tool_calls(mot)
    assert build_tool_calls(mot) == [
        {
            "id": "c1",
            "type": "function",
            "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'},
        }
    ]


def test_message_helpers() -> None:
    assert "litellm" in OPENAI_COMPATIBLE_WIRE_PROVIDERS
    merged = merge_provider_fields(
        {"role": "user", "content": "a"},
        {"*": {"content": "b", "cache": 1}, "openai": {"y": [1]}},
        "litellm",
    )
    assert merged == {"role": "user", "content": "a", "cache": 1, "y": [1]}  # ours win
    with pytest.raises(InvalidOptionError):
        merge_provider_fields({}, {"anthropic": {"x": 1}}, "openai")
    with pytest.raises(TypeError):
        merge_provider_fields({}, {"openai": 3}, "openai")  # type: ignore[dict-item]
    docs = Message("user", "Q", documents=[Document("Body", title="T", doc_id="7"), "plain"])
    assert messages_to_docs([docs]) == [
        {"text": "Body", "title": "T", "doc_id": "7"},
        {"text": "plain"},
    ]
    assert message_to_openai_message(docs) == {"role": "user", "content": "Q"}
    from mellea.formatters import ChatFormatter

    with_docs = message_to_openai_message(docs, ChatFormatter())
    assert with_docs["content"].startswith("Q") and "[Document 7]" in with_docs["content"]
    turns = [
        Message("assistant", "", tool_calls=[{"id": "1", "type": "function",
                "function": {"name": "f", "arguments": "{}"}}], thinking="why"),
        Message("assistant", "answer", thinking="why"),
        Message("user", "q"),
    ]  # fmt: skip
    assert should_replay_reasoning(turns, "openai") == [True, False, False]
    replayed = message_to_openai_message(turns[0], replay_reasoning=True)
    assert replayed["reasoning_content"] == "why" and replayed["content"] is None
    asyncio.run(prefetch_audio_urls([Message("user", "nothing to fetch")]))


# ----- backends.utils ---------------------------------------------------------------------


def test_backend_utils() -> None:
    ctx = ChatContext().add(Message("user", "hi")).add(ModelOutputThunk("hello"))
    chat = to_chat(Instruction("Next?"), ctx, None, "Be brief.")
    assert chat == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "Next?"},
    ]
    calls = to_tool_calls(
        TOOLS,
        'call {"name": "add", "arguments": {"a": "2", "b": 3}} {"name": "nope", "arguments": {}}',
    )
    assert calls is not None and len(calls) == 1 and calls[0].args == {"a": 2, "b": 3}
    assert to_tool_calls(TOOLS, "no tools here") is None
    assert get_value({"a": 1}, "a") == 1 and get_value(json, "dumps") is json.dumps
    assert get_value(object(), "missing") is None
    mot: ModelOutputThunk[Any] = ModelOutputThunk("x")
    populate_response_metadata_openai_shape(
        mot, {"id": "r", "model": "served", "choices": [{"finish_reason": "stop"}]}
    )
    assert (mot.generation.response_id, mot.generation.response_model) == ("r", "served")
    assert mot.generation.finish_reasons == ["stop"]


def test_session_over_ollama_records_the_reply_model(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text="ok"))
    reply = MelleaSession(OllamaModelBackend("alias", base_url=loopback.url)).instruct("x")
    assert reply.generation.response_model == "alias"
