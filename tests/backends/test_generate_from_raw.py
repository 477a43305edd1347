"""`generate_from_raw`: plain completions (no chat template, no history), one thunk per
action, on every engine: the embedded one decodes them in one batch, HTTP backends send
them concurrently."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from pydantic import BaseModel

from mellea.backends import ModelOption
from mellea.backends.dummy import DummyBackend
from mellea.backends.litellm import LiteLLMBackend
from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.openai import OpenAIBackend
from mellea.core.base import CBlock
from mellea.core.errors import BackendStatusError, InvalidOptionError
from mellea.core.thunk import ModelOutputThunk
from mellea.helpers.portal import run_sync
from mellea.stdlib.components import Instruction
from mellea.stdlib.context import ChatContext, SimpleContext
from tests.servers import LoopbackServer, Reply

PROMPTS = ["The capital of France is", "1, 2, 3,", "Once upon a time"]


class Point(BaseModel):
    x: int
    y: int


def raw(backend: Any, prompts: list[str], **kw: Any) -> list[ModelOutputThunk[Any]]:
    async def go() -> list[ModelOutputThunk[Any]]:
        mots = await backend.generate_from_raw([CBlock(p) for p in prompts], SimpleContext(), **kw)
        assert all(isinstance(m, ModelOutputThunk) for m in mots)
        await asyncio.gather(*(m._wait_quietly() for m in mots))
        return mots

    return run_sync(go())


@pytest.mark.parametrize("stream", [False, True])
def test_ollama_sends_raw_generate_requests_concurrently(
    loopback: LoopbackServer, stream: bool
) -> None:
    loopback.configure(ttft=0.3)
    backend = OllamaModelBackend("m", base_url=loopback.url)
    started = time.monotonic()
    mots = raw(backend, PROMPTS, model_options={ModelOption.STREAM: stream, "num_predict": 50})
    elapsed = time.monotonic() - started
    assert [m.value for m in mots] == [f"Echo: {p}" for p in PROMPTS]
    assert [m._prompt for m in mots] == PROMPTS
    stats = loopback.stats()
    bodies = sorted((r.body for r in stats.for_path("/api/generate")), key=lambda b: b["prompt"])
    assert [b["prompt"] for b in bodies] == sorted(PROMPTS)
    assert all(b["raw"] is True and b["stream"] is stream for b in bodies)
    assert bodies[0]["options"] == {"num_predict": 50}
    assert stats.max_in_flight == 3 and elapsed < 0.85  # together, not 3 x 0.3 s
    assert mots[0].generation.usage is not None and mots[0].generation.finish_reasons == ["stop"]


@pytest.mark.parametrize("stream", [False, True])
def test_openai_sends_plain_completions_concurrently(
    loopback: LoopbackServer, stream: bool
) -> None:
    loopback.configure(ttft=0.3)
    backend = OpenAIBackend("m", base_url=loopback.openai_base_url)
    mots = raw(backend, PROMPTS, model_options={ModelOption.STREAM: stream, "top_p": 0.5})
    assert [m.value for m in mots] == [f"Echo: {p}" for p in PROMPTS]
    stats = loopback.stats()
    requests = stats.for_path("/v1/completions")
    assert sorted(r.body["prompt"] for r in requests) == sorted(PROMPTS)
    assert all("messages" not in r.body and r.body["top_p"] == 0.5 for r in requests)
    assert stats.max_in_flight == 3
    assert mots[1].generation.usage == {
        "prompt_tokens": 3,
        "completion_tokens": 4,
        "total_tokens": 7,
    }
    assert mots[1].generation.response_id


def test_raw_format_and_isolated_failures(loopback: LoopbackServer) -> None:
    backend = OpenAIBackend("m", base_url=loopback.openai_base_url, retry=None)
    loopback.enqueue(Reply(status=401, error_body="bad key", match="broken"))
    loopback.enqueue(
        Reply(text='{"x": 1, "y": 2}', match="point"), Reply(text="no json", match="other")
    )
    mots = raw(backend, ["a point", "broken", "other"], format=Point)
    assert mots[0].parsed_repr == Point(x=1, y=2)
    assert isinstance(mots[1].error, BackendStatusError) and mots[1].error.status_code == 401
    assert mots[2].is_computed() and mots[2].parsed_repr is None  # a parse failure, kept
    assert "parse_error" in mots[2].generation.extra
    body = next(
        r.body for r in loopback.stats().for_path("/v1/completions") if "point" in r.body["prompt"]
    )
    assert body["response_format"]["type"] == "json_schema"


def test_litellm_plain_completions(loopback: LoopbackServer) -> None:
    backend = LiteLLMBackend("openai/m", base_url=loopback.openai_base_url, api_key="k")
    mots = raw(backend, PROMPTS[:2], model_options={ModelOption.MAX_NEW_TOKENS: 2})
    assert [m.value for m in mots] == ["Echo: The ", "Echo: 1, "]  # 2 tokens: "Echo: ", "The "
    assert [m.generation.finish_reasons for m in mots] == [["length"], ["length"]]
    assert len(loopback.stats().for_path("/v1/completions")) == 2


def test_dummy_raw_replies_in_order_and_components_render() -> None:
    backend = DummyBackend(["one", "two"])

    async def go() -> list[str]:
        actions = [CBlock("first"), Instruction("Write a word.")]
        mots = await backend.generate_from_raw(actions, ChatContext())
        return [await m.avalue() for m in mots]

    assert run_sync(go()) == ["one", "two"]
    assert backend.calls == [
        [{"role": "raw", "content": "first"}],
        [{"role": "raw", "content": "Write a word."}],
    ]


def test_raw_refuses_empty_prompts_and_unsupported_options() -> None:
    backend = DummyBackend(None)
    (mot,) = raw(backend, ["   "])
    assert isinstance(mot.error, InvalidOptionError)
    with pytest.raises(InvalidOptionError, match="logits"):
        raw(backend, ["x"], model_options={ModelOption.LOGITS: True})
