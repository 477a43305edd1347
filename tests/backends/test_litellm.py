"""LiteLLMBackend: the optional extra, and real LiteLLM calls against the loopback server
(its OpenAI-compatible endpoint, reached as `openai/<model>` with `base_url`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from pydantic import BaseModel

import mellea
from mellea.backends import ModelOption
from mellea.backends._policy import RetryPolicy
from mellea.core.errors import BackendStatusError, BackendUnavailableError, ReadTimeoutError
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer, Reply

FAST_RETRY = RetryPolicy(max_retries=2, backoff_initial=0.01, backoff_max=0.02)
STREAM = {ModelOption.STREAM: True}
PATH = "/v1/chat/completions"


def test_importing_the_module_does_not_import_litellm() -> None:
    code = "import sys, mellea.backends.litellm; print('litellm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_missing_extra_raises_import_error_with_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    from mellea.backends.litellm import LiteLLMBackend

    monkeypatch.setitem(sys.modules, "litellm", None)  # what an absent package looks like
    with pytest.raises(ImportError, match=r'pip install "mellea\[litellm\]"'):
        LiteLLMBackend(model_id="anthropic/claude-sonnet-4-20250514")
    with pytest.raises(ImportError, match="mellea"):
        mellea.start_session("litellm", model_id="openai/x")


# ----- with litellm installed ------------------------------------------------------------


class Person(BaseModel):
    name: str
    age: int


def need_litellm() -> None:
    # As LiteLLMBackend does before importing it: no price-list download at import.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    pytest.importorskip("litellm")


def make(srv: LoopbackServer, **kw: object) -> MelleaSession:
    need_litellm()
    from mellea.backends.litellm import LiteLLMBackend

    kw.setdefault("retry", FAST_RETRY)
    backend = LiteLLMBackend(
        model_id="openai/test-model", base_url=srv.openai_base_url, api_key="sk-test", **kw
    )  # type: ignore[arg-type]
    return MelleaSession(backend)


def bodies(srv: LoopbackServer) -> list[dict]:
    return [r.body for r in srv.stats().for_path(PATH)]


def test_generation_usage_and_options(loopback: LoopbackServer) -> None:
    m = make(loopback, model_options={ModelOption.TEMPERATURE: 0.2})
    mot = m.instruct(
        "hello there world",
        model_options={
            ModelOption.MAX_NEW_TOKENS: 2,
            ModelOption.SEED: 5,
            ModelOption.SYSTEM_PROMPT: "Be brief.",
            ModelOption.STOP_SEQUENCES: ["\n\n"],
        },
    )
    assert mot.value == "Echo: hello " and mot.generation.finish_reasons == ["length"]
    assert mot.generation.usage is not None and mot.generation.usage["completion_tokens"] == 2
    assert mot.generation.provider == "litellm" and mot.generation.response_id
    (body,) = bodies(loopback)
    assert body["model"] == "test-model" and body["max_tokens"] == 2 and body["seed"] == 5
    assert body["temperature"] == 0.2 and body["stop"] == ["\n\n"]
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    headers = loopback.stats().for_path(PATH)[0].headers
    assert headers["authorization"] == "Bearer sk-test"


async def test_streaming_deltas(loopback: LoopbackServer) -> None:
    loopback.configure(tokens=30, token_delay=0.01)
    m = make(loopback)
    mot = await m.ainstruct("x", model_options=STREAM)
    first = await mot.astream()
    assert first and not mot.is_computed()
    rest = "".join([d async for d in mot])
    assert first + rest == mot.value and mot.value.startswith("tok0 ")
    assert mot.generation.usage is not None and mot.generation.usage["completion_tokens"] == 30
    assert bodies(loopback)[0]["stream"] is True


def test_structured_output_and_fallback(loopback: LoopbackServer) -> None:
    m = make(loopback)
    mot = m.instruct("describe", format=Person)
    assert isinstance(mot.parsed_repr, Person)
    assert bodies(loopback)[0]["response_format"]["type"] == "json_schema"
    loopback.configure(reject_json_schema=True)
    m2 = make(loopback)
    for _ in range(2):
        assert isinstance(m2.instruct("describe", format=Person).parsed_repr, Person)
    kinds = [b["response_format"]["type"] for b in bodies(loopback)[1:]]
    assert kinds == ["json_schema", "json_object", "json_object"]


@pytest.mark.parametrize("stream", [False, True])
def test_tool_calls(loopback: LoopbackServer, stream: bool) -> None:
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    loopback.enqueue(Reply(tool_calls=[{"name": "add", "arguments": {"a": 2, "b": 3}}]))
    mot = make(loopback).instruct(
        "add", model_options={ModelOption.TOOLS: [add], **(STREAM if stream else {})},
        tool_calls=True,
    )  # fmt: skip
    assert mot.tool_calls is not None and mot.tool_calls["add"].call_func() == 5
    assert bodies(loopback)[0]["tools"][0]["function"]["name"] == "add"


def test_errors_are_typed(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(status=404, error_body="no such model"))
    with pytest.raises(BackendStatusError) as info:
        make(loopback).instruct("x")
    assert info.value.status_code == 404 and loopback.stats().total_requests == 1
    loopback.enqueue(Reply(status=503, error_body="busy"))
    mot = make(loopback).instruct("x")
    assert mot.value == "Echo: x" and mot.generation.attempts == 2


def test_unreachable_provider_is_typed() -> None:
    need_litellm()
    from mellea.backends.litellm import LiteLLMBackend

    backend = LiteLLMBackend("openai/m", base_url="http://127.0.0.1:9/v1", api_key="k", retry=FAST_RETRY)  # fmt: skip
    t0 = time.perf_counter()
    with pytest.raises(BackendUnavailableError):
        MelleaSession(backend).instruct("x")
    assert time.perf_counter() - t0 < 5


async def test_stalled_stream_times_out(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text="a b c d", stall_after_chunks=(2, 5.0)))
    mot = await make(loopback).ainstruct(
        "x", model_options={**STREAM, ModelOption.STREAM_TIMEOUT: 0.3}
    )
    with pytest.raises(ReadTimeoutError):
        await mot.avalue()
    assert mot.partial_value == "a b "


def test_start_session_litellm(loopback: LoopbackServer) -> None:
    need_litellm()
    m = mellea.start_session(
        "litellm", model_id="openai/loopback", base_url=loopback.openai_base_url, api_key="k"
    )
    assert str(m.chat("hi")) == "Echo: hi"
