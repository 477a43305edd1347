"""`generate_from_raw` through the cache: one cached interaction per prompt of the batch,
only the misses sent, in order; what is not cached; the hooks see hits as for chat."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from mellea.backends import ModelOption
from mellea.backends._policy import RetryPolicy
from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.openai import OpenAIBackend
from mellea.backends.response_cache import CachedBackend
from mellea.core.base import CBlock
from mellea.core.errors import BackendStatusError, GenerationCancelled
from mellea.stdlib.context import SimpleContext
from tests.servers import LoopbackServer, Reply

GREEDY: dict[str, Any] = {ModelOption.TEMPERATURE: 0}
NO_RETRY = RetryPolicy(max_retries=0)
RAW_PATHS = ("/api/generate", "/completions")


def _cached(srv: LoopbackServer, kind: str = "ollama", **kw: Any) -> CachedBackend:
    if kind == "ollama":
        return CachedBackend(OllamaModelBackend("m", base_url=srv.url, retry=NO_RETRY), **kw)
    if kind == "litellm":
        from mellea.backends.litellm import LiteLLMBackend

        inner = LiteLLMBackend("openai/m", base_url=srv.openai_base_url, api_key="sk-x")
        return CachedBackend(inner, **kw)
    return CachedBackend(OpenAIBackend("m", base_url=srv.openai_base_url, retry=NO_RETRY), **kw)


def _prompts_sent(srv: LoopbackServer) -> list[str]:
    """The prompts the server got, sorted (a batch's requests race each other)."""
    return sorted(r.body["prompt"] for r in srv.stats().requests if r.path.endswith(RAW_PATHS))


async def _raw(backend: CachedBackend, prompts: list[str], **options: Any) -> list[Any]:
    mots = await backend.generate_from_raw(
        [CBlock(p) for p in prompts], SimpleContext(), model_options={**GREEDY, **options}
    )
    await asyncio.gather(*(mot.avalue() for mot in mots), return_exceptions=True)
    return mots


@pytest.mark.parametrize("kind", ["ollama", "openai", "litellm"])
async def test_each_prompt_is_sent_once_then_replayed(loopback: LoopbackServer, kind: str) -> None:
    backend = _cached(loopback, kind)
    first = await _raw(backend, ["alpha one", "beta two"])
    assert _prompts_sent(loopback) == ["alpha one", "beta two"]
    assert [m.generation.extra["cache"] for m in first] == ["miss", "miss"]

    again = await _raw(backend, ["alpha one", "beta two"])
    assert _prompts_sent(loopback) == ["alpha one", "beta two"]  # nothing new went out
    assert [m.value for m in again] == [m.value for m in first] == ["Echo: alpha one",
                                                                    "Echo: beta two"]  # fmt: skip
    for hit, original in zip(again, first, strict=True):
        assert hit.generation.extra["cache"] == "hit"
        assert hit.generation.usage == original.generation.usage is not None
        assert hit.generation.finish_reasons == original.generation.finish_reasons == ["stop"]
        assert hit.generation.model == original.generation.model
        assert hit.generation.provider == original.generation.provider
        assert hit.generate_log is not None and hit.generate_log.prompt == original._prompt
    assert (backend.stats.misses, backend.stats.hits, backend.stats.stored) == (2, 2, 2)


async def test_a_partial_hit_sends_only_the_misses_in_order(loopback: LoopbackServer) -> None:
    backend = _cached(loopback)
    await _raw(backend, ["a", "b"])
    mots = await _raw(backend, ["c", "a", "d", "b"])
    assert _prompts_sent(loopback) == ["a", "b", "c", "d"]
    assert [m.value for m in mots] == ["Echo: c", "Echo: a", "Echo: d", "Echo: b"]
    assert [m.generation.extra["cache"] for m in mots] == ["miss", "hit", "miss", "hit"]


async def test_identical_prompts_in_flight_share_one_request(loopback: LoopbackServer) -> None:
    loopback.configure(ttft=0.2)
    backend = _cached(loopback)
    mots = await _raw(backend, ["same", "same"], **{ModelOption.STREAM: True})
    assert _prompts_sent(loopback) == ["same"]
    assert [m.value for m in mots] == ["Echo: same"] * 2
    assert sorted(m.generation.extra["cache"] for m in mots) == ["miss", "shared"]


async def test_options_format_and_chat_change_the_key(loopback: LoopbackServer) -> None:
    from pydantic import BaseModel

    class City(BaseModel):
        name: str

    backend = _cached(loopback)
    await _raw(backend, ["p"])
    await _raw(backend, ["p"], **{ModelOption.MAX_NEW_TOKENS: 1})
    mots = await backend.generate_from_raw(
        [CBlock("p")], SimpleContext(), format=City, model_options=GREEDY
    )
    await mots[0].avalue()
    assert isinstance(mots[0].parsed_repr, City)
    assert len(_prompts_sent(loopback)) == 3
    # A chat call with the same text is another request (messages, not a prompt).
    mot, _ = await backend.generate_from_context(CBlock("p"), SimpleContext(), model_options=GREEDY)
    await mot.avalue()
    assert mot.generation.extra["cache"] == "miss"
    # Stream flag and timeouts are not part of the key.
    same = await _raw(backend, ["p"], **{ModelOption.STREAM: True, "timeout": 30})
    assert same[0].generation.extra["cache"] == "hit"


async def test_sampled_prompts_are_not_cached_unless_seeded_or_cache_all(
    loopback: LoopbackServer,
) -> None:
    backend = _cached(loopback)
    sampled = {ModelOption.TEMPERATURE: 0.8}
    for _ in range(2):
        mots = await _raw(backend, ["s"], **sampled)
        assert mots[0].generation.extra["cache"] == "bypass"
    assert _prompts_sent(loopback) == ["s", "s"]
    seeded = [await _raw(backend, ["s"], **sampled, **{ModelOption.SEED: 7}) for _ in range(2)]
    assert [m[0].generation.extra["cache"] for m in seeded] == ["miss", "hit"]

    every = _cached(loopback, cache_all=True)
    both = [await _raw(every, ["t"], **sampled) for _ in range(2)]
    assert [m[0].generation.extra["cache"] for m in both] == ["miss", "hit"]
    assert _prompts_sent(loopback) == ["s", "s", "s", "t"]


async def test_errors_and_cancellations_are_not_stored(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(match="bad", status=422, error_body="no such thing"))
    backend = _cached(loopback)
    failed, ok = await _raw(backend, ["bad", "good"])
    assert isinstance(failed.error, BackendStatusError) and ok.value == "Echo: good"
    retried, hit = await _raw(backend, ["bad", "good"])
    assert retried.value == "Echo: bad" and retried.generation.extra["cache"] == "miss"
    assert hit.generation.extra["cache"] == "hit"
    assert _prompts_sent(loopback) == ["bad", "bad", "good"]

    loopback.configure(tokens=50, token_delay=0.02)
    (cut,) = await backend.generate_from_raw(
        [CBlock("long")], SimpleContext(), model_options={**GREEDY, ModelOption.STREAM: True}
    )
    assert await cut.astream()
    await cut.acancel()
    assert isinstance(cut.error, GenerationCancelled)
    (whole,) = await _raw(backend, ["long"])
    assert whole.generation.extra["cache"] == "miss" and whole.value.endswith("tok49")
    assert _prompts_sent(loopback)[-2:] == ["long", "long"]  # (sorted: "good" comes first)
    assert backend.stats.stored == 3  # good, bad (the second time), long (whole)


@pytest.fixture
def hook_table() -> Iterator[None]:
    from mellea.core import hooks
    from mellea.plugins import _table

    _table.reset()
    yield
    _table.reset()
    assert not hooks.active


async def test_batch_hooks_see_cached_completions(
    loopback: LoopbackServer, hook_table: None
) -> None:
    from mellea.plugins import HookType, register
    from mellea.plugins.manager import drain_background_tasks
    from tests.plugins._util import recorder

    seen, fns = recorder(HookType.GENERATION_BATCH_PRE_CALL, HookType.GENERATION_BATCH_POST_CALL)
    register(fns)
    backend = _cached(loopback)
    first = await _raw(backend, ["x", "y"])
    await drain_background_tasks()  # (the post-call hook runs once the thunks are done)
    await _raw(backend, ["x", "y"])
    await drain_background_tasks()
    points = [p for p, _ in seen]
    assert points == ["generation_batch_pre_call", "generation_batch_post_call"] * 2
    post_miss, post_hit = seen[1][1], seen[3][1]
    assert [m.generation.extra["cache"] for m in post_hit.model_outputs] == ["hit", "hit"]
    assert [m.value for m in post_hit.model_outputs] == [m.value for m in first]
    assert post_hit.usage == post_miss.usage is not None  # the recorded usage, summed
    assert (post_hit.model, post_hit.provider) == ("m", "ollama")
    assert len(_prompts_sent(loopback)) == 2


@pytest.mark.model
async def test_embedded_batch_is_cached_per_prompt() -> None:
    from mellea.backends.local import LocalBackend

    backend = CachedBackend(LocalBackend(n_threads=1))
    options = {ModelOption.MAX_NEW_TOKENS: 16}
    first = await _raw(backend, ["The sky is", "One, two,"], **options)
    assert all(m.value for m in first)
    mots = await _raw(backend, ["Water is", "The sky is"], **options)
    assert [m.generation.extra["cache"] for m in mots] == ["miss", "hit"]
    assert mots[1].value == first[0].value
    assert mots[1].generation.usage == first[0].generation.usage is not None
    assert (backend.stats.misses, backend.stats.hits) == (3, 1)
    await backend.aclose()


@pytest.mark.model
async def test_calls_asking_for_logits_always_reach_the_engine() -> None:
    from mellea.backends.local import LocalBackend

    backend = CachedBackend(LocalBackend(n_threads=1))
    options = {ModelOption.MAX_NEW_TOKENS: 4, ModelOption.TEMPERATURE: 0, ModelOption.LOGITS: True}
    for _ in range(2):
        (mot,) = await _raw(backend, ["The sky is"], **options)
        assert mot.generation.extra["cache"] == "bypass"
        assert mot.generation.logits  # a hit could not have carried them
    assert (backend.stats.bypassed, backend.stats.hits, backend.stats.stored) == (2, 0, 0)
    await backend.aclose()
