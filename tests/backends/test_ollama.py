"""OllamaModelBackend against the loopback server: wire format, streaming, failures."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from pydantic import BaseModel

from mellea.backends import ModelOption
from mellea.backends._policy import RetryPolicy
from mellea.backends.ollama import OllamaModelBackend, ollama_base_url
from mellea.core.errors import (
    BackendProtocolError,
    BackendStatusError,
    BackendUnavailableError,
    ReadTimeoutError,
)
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer, Reply

FAST_RETRY = RetryPolicy(max_retries=2, backoff_initial=0.01, backoff_max=0.02)
STREAM = {ModelOption.STREAM: True}


def make(srv: LoopbackServer, **kw: object) -> MelleaSession:
    kw.setdefault("retry", FAST_RETRY)
    return MelleaSession(OllamaModelBackend("test-model", base_url=srv.url, **kw))  # type: ignore[arg-type]


def test_base_url_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ollama_base_url() == "http://127.0.0.1:11434"
    monkeypatch.setenv("OLLAMA_HOST", "0.0.0.0")
    assert ollama_base_url() == "http://127.0.0.1:11434"
    monkeypatch.setenv("OLLAMA_HOST", "gpu-box:9999")
    assert ollama_base_url() == "http://gpu-box:9999"
    assert ollama_base_url("https://x.example/") == "https://x.example:11434"


def test_non_streaming_call_and_usage(loopback: LoopbackServer) -> None:
    mot = make(loopback).instruct("count these words")
    assert mot.value == "Echo: count these words"
    assert mot.generation.usage is not None and mot.generation.usage["completion_tokens"] > 0
    assert mot.generation.finish_reasons == ["stop"]
    body = loopback.stats().for_path("/api/chat")[0].body
    assert body["model"] == "test-model" and body["stream"] is False


async def test_streaming_call_feeds_the_thunk_incrementally(loopback: LoopbackServer) -> None:
    loopback.configure(tokens=40, token_delay=0.01)
    mot = await make(loopback).ainstruct("x", model_options=STREAM)
    first = await mot.astream()
    assert first and not mot.is_computed()
    rest = "".join([d async for d in mot])
    assert first + rest == mot.value and mot.value.startswith("tok0 ")
    assert mot.generation.streaming


def test_options_and_format_reach_the_wire(loopback: LoopbackServer) -> None:
    class Person(BaseModel):
        name: str
        age: int

    mot = make(loopback, model_options={ModelOption.CONTEXT_WINDOW: 2048}).instruct(
        "describe",
        format=Person,
        model_options={
            ModelOption.MAX_NEW_TOKENS: 7,
            ModelOption.STOP_SEQUENCES: ["\n\n"],
            ModelOption.SEED: 4,
            "keep_alive": "5m",
        },
    )
    body = loopback.stats().for_path("/api/chat")[0].body
    assert body["options"] == {"num_predict": 7, "stop": ["\n\n"], "seed": 4, "num_ctx": 2048}
    assert body["keep_alive"] == "5m"
    assert body["format"]["properties"].keys() == {"name", "age"}
    # 7 tokens truncate the JSON: the text is kept, the parse failure is recorded, and
    # there is no half-built object.
    assert mot.value and mot.parsed_repr is None
    assert "does not match Person" in str(mot.generation.extra["parse_error"])
    full = make(loopback).instruct("describe", format=Person)
    assert isinstance(full.parsed_repr, Person)
    assert Person.model_validate_json(full.value or "") == full.parsed_repr


def test_unreachable_server_is_a_clear_typed_error() -> None:
    m = MelleaSession(OllamaModelBackend(base_url="http://127.0.0.1:9", retry=FAST_RETRY))
    t0 = time.perf_counter()
    with pytest.raises(BackendUnavailableError, match="ollama serve") as info:
        m.instruct("x")
    assert isinstance(info.value, ConnectionError)
    assert time.perf_counter() - t0 < 2


def test_client_errors_are_not_retried(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(status=404, error_body="model 'test-model' not found"))
    with pytest.raises(BackendStatusError, match="not found") as info:
        make(loopback).instruct("x")
    assert info.value.status_code == 404
    assert loopback.stats().total_requests == 1


def test_server_errors_are_retried(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(status=503, headers={"Retry-After": "0"}))
    mot = make(loopback).instruct("x")
    assert mot.value == "Echo: x" and mot.generation.attempts == 2


async def test_stall_mid_stream_times_out_and_keeps_partial_text(
    loopback: LoopbackServer,
) -> None:
    loopback.enqueue(Reply(text="a b c d", stall_after_chunks=(2, 5.0)))
    mot = await make(loopback).ainstruct(
        "x", model_options={**STREAM, ModelOption.STREAM_TIMEOUT: 0.3}
    )
    t0 = time.perf_counter()
    with pytest.raises(ReadTimeoutError) as info:
        await mot.avalue()
    assert time.perf_counter() - t0 < 2
    assert info.value.partial_output == "a b " == mot.partial_value


async def test_dropped_stream_is_a_protocol_error_with_partial_text(
    loopback: LoopbackServer,
) -> None:
    loopback.enqueue(Reply(text="a b c d", drop_after_chunks=2))
    mot = await make(loopback).ainstruct("x", model_options=STREAM)
    with pytest.raises(BackendProtocolError) as info:
        await mot.avalue()
    assert info.value.partial_output == "a b "


async def test_malformed_stream_line_is_a_protocol_error(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text="a b c", malformed_after_chunks=1))
    mot = await make(loopback).ainstruct("x", model_options=STREAM)
    with pytest.raises(BackendProtocolError, match="malformed"):
        await mot.avalue()


async def test_cancel_aborts_the_request_on_the_server(loopback: LoopbackServer) -> None:
    loopback.configure(tokens=200, token_delay=0.01)
    mot = await make(loopback).ainstruct("x", model_options=STREAM)
    await mot.astream()
    await mot.acancel()
    assert mot.is_cancelled() and mot.partial_value.startswith("tok0")
    stats = loopback.wait_idle()
    assert stats.disconnects == 1 and stats.requests[-1].client_disconnected


async def test_many_thunks_queue_behind_the_concurrency_limit(loopback: LoopbackServer) -> None:
    loopback.configure(ttft=0.05)
    m = make(loopback, max_concurrency=8)
    thunks = [await m.ainstruct(f"q{i}") for i in range(100)]
    await asyncio.gather(*(t.avalue() for t in thunks))
    stats = loopback.stats(include_requests=False)
    assert stats.max_in_flight <= 8 and stats.total_requests == 100
    assert m.backend._http.in_flight == 0  # type: ignore[attr-defined]


def test_a_configured_proxy_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    from mellea.backends._http_config import proxy_from_env

    for var in ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    assert proxy_from_env("http://gpu-box:11434") is None
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    proxy = proxy_from_env("http://gpu-box:11434")  # (tests/http/ sends through one)
    assert proxy is not None and proxy.url == "http://proxy.invalid:3128"
    monkeypatch.setenv("NO_PROXY", "gpu-box")
    assert proxy_from_env("http://gpu-box:11434") is None


def test_unknown_ollama_options_are_forwarded_with_a_warning(
    loopback: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    # The docs: a key mellea does not recognise goes to the API unchanged. Ollama ignores
    # options it does not know, so a likely typo is logged (once per name).
    m = make(loopback)
    with caplog.at_level(logging.WARNING, logger="mellea"):
        m.instruct("x", model_options={"temprature": 0.1})
        m.instruct("y", model_options={"temprature": 0.1})
    warnings = [r.getMessage() for r in caplog.records if "temprature" in r.getMessage()]
    assert len(warnings) == 1 and "did you mean temperature" in warnings[0]
    assert loopback.stats().for_path("/api/chat")[-1].body["options"] == {"temprature": 0.1}
    caplog.clear()
    m = make(loopback, extra_option_names=["brand_new_knob"])
    with caplog.at_level(logging.WARNING, logger="mellea"):
        m.instruct("x", model_options={"brand_new_knob": 3})
    assert not caplog.records
    assert loopback.stats().for_path("/api/chat")[-1].body["options"] == {"brand_new_knob": 3}
