"""Single flight: identical calls in flight share one request; each reader streams on its own."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mellea.backends import ModelOption
from mellea.backends._policy import RetryPolicy
from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.response_cache import CachedBackend, SQLiteStore
from mellea.core.errors import BackendStatusError
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer, Reply

STREAM: dict[str, Any] = {ModelOption.TEMPERATURE: 0, ModelOption.STREAM: True}


def _chat_requests(srv: LoopbackServer) -> int:
    return len(srv.stats().for_path("/api/chat"))


@pytest.mark.parametrize("store", ["memory", "sqlite"])
async def test_256_identical_calls_make_one_request(
    loopback: LoopbackServer, store: str, tmp_path: Any
) -> None:
    loopback.configure(tokens=20, token_delay=0.02)
    kw: dict[str, Any] = {} if store == "memory" else {"store": SQLiteStore(tmp_path / "c.db")}
    backend = CachedBackend(OllamaModelBackend("m", base_url=loopback.url), **kw)
    m = MelleaSession(backend)
    mots = [await m.ainstruct("same", model_options=STREAM) for _ in range(256)]
    values = await asyncio.gather(*(mot.avalue() for mot in mots))
    assert len(set(values)) == 1 and values[0].endswith("tok19")
    assert _chat_requests(loopback) == 1
    # Most join the flight; on a loaded machine the last may arrive after it landed (hits).
    stats = backend.stats
    assert stats.misses == 1 and stats.shared + stats.hits == 255 and stats.shared > 0
    assert all(mot.generation.usage == mots[0].generation.usage for mot in mots)


async def test_each_reader_has_its_own_stream_position(loopback: LoopbackServer) -> None:
    loopback.configure(tokens=30, token_delay=0.01)
    m = MelleaSession(CachedBackend(OllamaModelBackend("m", base_url=loopback.url)))
    early = await m.ainstruct("same", model_options=STREAM)
    first = await early.astream()
    late = await m.ainstruct("same", model_options=STREAM)  # joins mid-stream
    late_chunks = [chunk async for chunk in late]
    early_chunks = [first] + [chunk async for chunk in early]
    assert "".join(late_chunks) == "".join(early_chunks) == early.value
    assert late_chunks[0].startswith("tok0")  # the late reader starts from the beginning
    assert late.generation.extra["cache"] == "shared"
    assert _chat_requests(loopback) == 1


async def test_a_reader_leaving_does_not_stop_the_others(loopback: LoopbackServer) -> None:
    loopback.configure(tokens=30, token_delay=0.01)
    backend = CachedBackend(OllamaModelBackend("m", base_url=loopback.url))
    m = MelleaSession(backend)
    a = await m.ainstruct("same", model_options=STREAM)
    b = await m.ainstruct("same", model_options=STREAM)
    assert await a.astream()
    await a.acancel()
    assert a.is_cancelled()
    assert (await b.avalue()).endswith("tok29")
    assert loopback.wait_idle().disconnects == 0
    assert backend.stats.stored == 1  # b finished: the answer is stored


async def test_the_last_reader_leaving_aborts_the_request(loopback: LoopbackServer) -> None:
    loopback.configure(tokens=100, token_delay=0.01)
    backend = CachedBackend(OllamaModelBackend("m", base_url=loopback.url))
    m = MelleaSession(backend)
    mots = [await m.ainstruct("same", model_options=STREAM) for _ in range(3)]
    assert await mots[0].astream()
    for mot in mots:
        await mot.acancel()
    assert loopback.wait_idle().disconnects == 1
    assert backend.stats.stored == 0 and not backend.layer._flights


async def test_an_error_reaches_every_reader_and_is_not_kept(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(status=400, error_body="bad request"), Reply(text="ok"))
    no_retry = RetryPolicy(max_retries=0)
    m = MelleaSession(CachedBackend(OllamaModelBackend("m", base_url=loopback.url, retry=no_retry)))
    mots = [await m.ainstruct("same", model_options=STREAM) for _ in range(4)]
    results = await asyncio.gather(*(mot.avalue() for mot in mots), return_exceptions=True)
    assert all(isinstance(r, BackendStatusError) for r in results)
    assert len({id(r) for r in results}) == 4  # each thunk has its own error object
    again = await m.ainstruct("same", model_options=STREAM)
    assert await again.avalue() == "ok"
    assert _chat_requests(loopback) == 2
