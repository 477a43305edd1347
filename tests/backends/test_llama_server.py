"""OpenAIBackend against a REAL `llama_cpp.server` (llama-cpp-python[server]) serving the
embedded default model: real engine, real wire format, including its refusal of the
`json_schema` response format (HTTP 500) and our fallback to `json_object` + schema."""

from __future__ import annotations

import asyncio
import logging

import pytest
from pydantic import BaseModel

from mellea.backends import ModelOption
from mellea.backends.openai import OpenAIBackend
from mellea.stdlib.session import MelleaSession

pytestmark = pytest.mark.llama_server  # fixtures: tests/servers/llama_server.py
SHORT = {ModelOption.MAX_NEW_TOKENS: 16, ModelOption.TEMPERATURE: 0.0, ModelOption.SEED: 1}


def session(url: str) -> MelleaSession:
    return MelleaSession(OpenAIBackend("smollm2", base_url=url, model_options=SHORT))


def test_generation(llama_server: str) -> None:
    mot = session(llama_server).instruct("Say hello.")
    assert mot.value and mot.value.strip()
    gen = mot.generation
    assert gen.finish_reasons in (["stop"], ["length"])
    assert gen.usage is not None and 0 < gen.usage["completion_tokens"] <= 16
    assert gen.response_id and gen.response_id.startswith("chatcmpl-")


async def test_streaming(llama_server: str) -> None:
    m = session(llama_server)
    mot = await m.ainstruct("Name three colors.", model_options={ModelOption.STREAM: True})
    chunks = [chunk async for chunk in mot]
    assert len(chunks) >= 3 and "".join(chunks) == mot.value
    assert mot.generation.finish_reasons in (["stop"], ["length"])
    await m.aclose()


async def test_concurrent_streams_are_not_interrupted(llama_server: str) -> None:
    m = session(llama_server)
    opts = {ModelOption.STREAM: True, ModelOption.MAX_NEW_TOKENS: 8}
    thunks = [await m.ainstruct(f"Count from {i}.", model_options=opts) for i in (1, 5)]
    values = await asyncio.gather(*(t.avalue() for t in thunks))
    assert all(values)
    # With --interrupt_requests True the server would end the first stream early,
    # without a finish_reason.
    assert all(t.generation.finish_reasons in (["stop"], ["length"]) for t in thunks)
    await m.aclose()


class Flag(BaseModel):
    ok: bool


def test_structured_output_falls_back_for_real(
    llama_server: str, mellea_logs: pytest.LogCaptureFixture
) -> None:
    m = session(llama_server)
    opts = {ModelOption.MAX_NEW_TOKENS: 24}
    first = m.instruct("Is the sky blue? Answer in JSON.", format=Flag, model_options=opts)
    assert isinstance(first.parsed_repr, Flag), first.value
    assert "rejected the json_schema" in mellea_logs.text  # HTTP 500 from the real server
    mellea_logs.clear()
    stream = {**opts, ModelOption.STREAM: True}
    second = m.instruct("Is water wet? Answer in JSON.", format=Flag, model_options=stream)
    assert isinstance(second.parsed_repr, Flag), second.value
    assert "rejected" not in mellea_logs.text and second.generation.attempts == 1
    assert not any(r.levelno >= logging.WARNING for r in mellea_logs.records)
