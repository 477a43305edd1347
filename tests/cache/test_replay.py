"""Cache hits: replayed as streams with the original chunks, metadata and tool calls; what
is not cached (sampling without a seed, errors, cancellations)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from pydantic import BaseModel

from mellea.backends import ModelOption
from mellea.backends._policy import RetryPolicy
from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.openai import OpenAIBackend
from mellea.backends.response_cache import CachedBackend, MemoryStore
from mellea.backends.tools import tool
from mellea.core.errors import BackendStatusError
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer, Reply

GREEDY: dict[str, Any] = {ModelOption.TEMPERATURE: 0}
STREAM: dict[str, Any] = {**GREEDY, ModelOption.STREAM: True}
NO_RETRY = RetryPolicy(max_retries=0)


class City(BaseModel):
    name: str
    population: int


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def _cached(srv: LoopbackServer, kind: str = "ollama", **kw: Any) -> CachedBackend:
    if kind == "ollama":
        return CachedBackend(OllamaModelBackend("m", base_url=srv.url, retry=NO_RETRY), **kw)
    if kind == "litellm":
        from mellea.backends.litellm import LiteLLMBackend

        inner = LiteLLMBackend("openai/m", base_url=srv.openai_base_url, api_key="sk-x")
        return CachedBackend(inner, **kw)
    return CachedBackend(OpenAIBackend("m", base_url=srv.openai_base_url, retry=NO_RETRY), **kw)


async def _read_chunks(mot: Any) -> list[str]:
    return [chunk async for chunk in mot]


def _chat_requests(srv: LoopbackServer) -> int:
    return len([r for r in srv.stats().requests if r.path.endswith(("/api/chat", "/completions"))])


@pytest.mark.parametrize("kind", ["ollama", "openai"])
async def test_a_hit_replays_the_stream_with_its_chunks_and_pace(
    loopback: LoopbackServer, kind: str
) -> None:
    loopback.configure(tokens=12, token_delay=0.05)
    m = MelleaSession(_cached(loopback, kind, replay_speed=1.0))
    first = await m.ainstruct("tell", model_options=STREAM)
    t0 = time.perf_counter()
    original = await _read_chunks(first)
    took = time.perf_counter() - t0

    again = await m.ainstruct("tell", model_options=STREAM)
    t0 = time.perf_counter()
    replayed = await _read_chunks(again)
    replay_took = time.perf_counter() - t0
    assert "".join(replayed) == "".join(original) == again.value == first.value
    # Read as they come, the replayed chunks arrive one by one (50 ms apart), as the
    # originals did: the reader sees the same pieces, unless the machine makes it late.
    assert len(replayed) >= 6
    assert again.generation.extra["cache"] == "hit"
    assert 0.6 * took < replay_took < took + 1.0  # the recorded pace, not all at once
    assert _chat_requests(loopback) == 1


async def test_without_pacing_a_hit_arrives_at_once(loopback: LoopbackServer) -> None:
    loopback.configure(tokens=12, token_delay=0.03)
    backend = _cached(loopback)
    m = MelleaSession(backend)
    first = await m.ainstruct("tell", model_options=STREAM)
    await first.avalue()
    t0 = time.perf_counter()
    again = await m.ainstruct("tell", model_options=STREAM)
    assert await again.avalue() == first.value
    assert time.perf_counter() - t0 < 0.2
    # the stored response keeps the engine's chunk boundaries for paced replays
    (stored,) = [r for r, _ in backend.store._entries.values()]  # type: ignore[attr-defined]
    assert len(stored.chunks) == 12 and "".join(stored.chunks) == first.value


@pytest.mark.parametrize("kind", ["ollama", "openai", "litellm"])
def test_a_hit_has_the_metadata_of_the_original(loopback: LoopbackServer, kind: str) -> None:
    loopback.enqueue(Reply(text="Paris is big.", usage={"prompt_tokens": 9,
                           "completion_tokens": 4, "total_tokens": 13}, finish_reason="length"))  # fmt: skip
    m = MelleaSession(_cached(loopback, kind))
    first = m.instruct("capital?", model_options=GREEDY)
    hit = m.instruct("capital?", model_options=GREEDY)
    assert hit.value == first.value == "Paris is big."
    assert hit.generation.usage == first.generation.usage
    assert hit.generation.finish_reasons == first.generation.finish_reasons == ["length"]
    assert hit.generation.response_id == first.generation.response_id
    assert hit.generation.model == first.generation.model and hit.generation.ttfb_ms is not None
    wrapper = m.backend
    assert isinstance(wrapper, CachedBackend) and wrapper.model_id == wrapper.backend.model_id
    assert wrapper.base_url == wrapper.backend.base_url  # type: ignore[attr-defined]
    assert (first.generation.extra["cache"], hit.generation.extra["cache"]) == ("miss", "hit")


@pytest.mark.parametrize("kind", ["ollama", "openai"])
def test_tool_calls_and_structured_output_are_replayed(loopback: LoopbackServer, kind: str) -> None:
    loopback.enqueue(Reply(tool_calls=[{"name": "add", "arguments": {"a": 2, "b": 3}}]))
    m = MelleaSession(_cached(loopback, kind))
    options = {**GREEDY, ModelOption.TOOLS: [add]}
    m.instruct("sum", model_options=options, tool_calls=True)
    hit = m.instruct("sum", model_options=options, tool_calls=True)
    assert hit.generation.extra["cache"] == "hit" and hit.tool_calls is not None
    call = hit.tool_calls["add"]
    assert call.args == {"a": 2, "b": 3} and call.call_func() == 5  # bound to the real tool

    m.instruct("city", model_options=GREEDY, format=City)
    parsed = m.instruct("city", model_options=GREEDY, format=City)
    assert parsed.generation.extra["cache"] == "hit"
    assert isinstance(parsed.parsed_repr, City)
    assert _chat_requests(loopback) == 2


def test_sampling_without_a_seed_is_not_cached_unless_asked(loopback: LoopbackServer) -> None:
    sampled = {ModelOption.TEMPERATURE: 0.7}
    m = MelleaSession(_cached(loopback))
    for _ in range(2):
        assert m.instruct("x", model_options=sampled).generation.extra["cache"] == "bypass"
    assert m.instruct("x").generation.extra["cache"] == "bypass"  # server default: sampled
    seeded = {**sampled, ModelOption.SEED: 5}
    m.instruct("x", model_options=seeded)
    assert m.instruct("x", model_options=seeded).generation.extra["cache"] == "hit"
    assert _chat_requests(loopback) == 4

    everything = MelleaSession(_cached(loopback, cache_all=True))
    everything.instruct("x", model_options=sampled)
    assert everything.instruct("x", model_options=sampled).generation.extra["cache"] == "hit"


async def test_errors_are_not_cached(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(status=500), Reply(text="fine"))
    backend = _cached(loopback)
    m = MelleaSession(backend)
    failed = await m.ainstruct("q", model_options=GREEDY)
    with pytest.raises(BackendStatusError):
        await failed.avalue()
    ok = await m.ainstruct("q", model_options=GREEDY)
    assert await ok.avalue() == "fine" and ok.generation.extra["cache"] == "miss"
    assert backend.stats.stored == 1


async def test_a_stream_broken_midway_is_not_cached(loopback: LoopbackServer) -> None:
    loopback.configure(tokens=10)
    loopback.enqueue(Reply(drop_after_chunks=3))
    m = MelleaSession(_cached(loopback))
    broken = await m.ainstruct("q", model_options=STREAM)
    with pytest.raises(Exception):  # noqa: B017 - the typed error is the backend's business
        await broken.avalue()
    assert broken.partial_value  # the text so far stays on the thunk
    whole = await m.ainstruct("q", model_options=STREAM)
    assert (await whole.avalue()).endswith("tok9") and whole.generation.extra["cache"] == "miss"


async def test_cancelled_generations_are_not_cached(loopback: LoopbackServer) -> None:
    loopback.configure(tokens=50, token_delay=0.02)
    backend = _cached(loopback)
    m = MelleaSession(backend)
    mot = await m.ainstruct("q", model_options=STREAM)
    assert await mot.astream()
    await mot.acancel()
    assert mot.is_cancelled() and backend.stats.stored == 0
    assert len(backend.store) == 0  # type: ignore[arg-type]
    stats = loopback.wait_idle()
    assert stats.disconnects == 1  # the request was really aborted
    again = await m.ainstruct("q", model_options=STREAM)
    assert (await again.avalue()).endswith("tok49") and again.generation.extra["cache"] == "miss"


async def test_memory_store_limits_and_ttl() -> None:
    from mellea.backends.response_cache import CachedResponse

    store = MemoryStore(max_entries=2, ttl=0.5)
    for key in "abc":
        await store.put(key, CachedResponse(chunks=(key,)))
    assert await store.get("a") is None and len(store) == 2  # least recently used went
    assert await store.get("b") is not None
    await store.put("d", CachedResponse(chunks=("d",)))
    assert await store.get("c") is None and await store.get("b") is not None  # b was used
    await asyncio.sleep(0.6)
    assert await store.get("b") is None  # expired
    small = MemoryStore(max_bytes=1000)
    await small.put("x", CachedResponse(chunks=("y" * 700,)))
    await small.put("z", CachedResponse(chunks=("y" * 700,)))
    assert len(small) == 1 and small.nbytes <= 1000
