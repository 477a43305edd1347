"""Cancellation: the HTTP request is aborted (the server sees the disconnect) or the
embedded generation stopped, the partial text stays on the thunk, and nothing leaks."""

from __future__ import annotations

import asyncio
import time

import pytest

from mellea.backends import ModelOption
from mellea.core.errors import GenerationCancelled
from tests.servers import LoopbackServer, Reply

from ._harness import RESULTS, Harness, Kind
from .conftest import MakeHarness

pytestmark = pytest.mark.timeout(60)
STREAM = {ModelOption.STREAM: True}


async def test_cancellation_mid_stream(make: MakeHarness, loopback: LoopbackServer) -> None:
    loopback.configure(tokens=500, token_delay=0.01)
    h = make(loopback)
    mot = await h.session.ainstruct("x", model_options=STREAM)
    first = await mot.astream()
    if h.mode == "async":
        t0 = time.perf_counter()
        async with mot:  # leaving the block before the end cancels the generation
            pass
    else:
        # Sync code: a thread blocked in str(mot) gets the error once cancel() is called.
        reader = asyncio.ensure_future(asyncio.to_thread(str, mot))
        await asyncio.sleep(0.05)
        t0 = time.perf_counter()
        mot.cancel()
        with pytest.raises(GenerationCancelled):
            await reader
    seconds = time.perf_counter() - t0
    RESULTS.append(("cancellation mid-stream", h.kind, h.mode, "GenerationCancelled", seconds))
    assert mot.is_cancelled()
    err = mot.error
    assert isinstance(err, GenerationCancelled) and err.partial_output == mot.partial_value
    assert mot.partial_value.startswith(first) and first.startswith("tok0")
    with pytest.raises(GenerationCancelled):
        await mot.avalue()
    await h.assert_no_leaks()
    stats = loopback.stats()
    assert stats.disconnects == 1 and stats.requests[0].client_disconnected


async def test_cancelling_the_awaiting_task_cancels_the_generation(
    loopback: LoopbackServer, kind: Kind
) -> None:
    loopback.configure(tokens=500, token_delay=0.01)
    h = Harness(kind, "async", loopback)
    mot = await h.session.ainstruct("x", model_options=STREAM)
    await mot.astream()
    waiter = asyncio.ensure_future(mot.avalue())
    await asyncio.sleep(0.05)
    waiter.cancel()  # like awaiting an asyncio.Task: the work is cancelled too
    with pytest.raises(asyncio.CancelledError):
        await waiter
    await h.assert_no_leaks()
    assert mot.is_cancelled() and isinstance(mot.error, GenerationCancelled)
    assert loopback.stats().requests[0].client_disconnected
    await h.aclose()


async def test_cancel_before_the_request_went_out(loopback: LoopbackServer, kind: Kind) -> None:
    loopback.configure(ttft=1.0)  # none can finish before it is cancelled
    h = Harness(kind, "async", loopback)
    thunks = [await h.session.ainstruct(f"q{i}") for i in range(50)]
    for t in thunks:
        t.cancel()
    await asyncio.gather(*(t.acancel() for t in thunks))
    assert all(t.is_cancelled() and t.partial_value == "" for t in thunks)
    await h.assert_no_leaks()
    await h.aclose()


async def test_cancel_during_retry_backoff(loopback: LoopbackServer, kind: Kind) -> None:
    loopback.enqueue(Reply(status=503, headers={"Retry-After": "10"}))
    h = Harness(kind, "async", loopback)
    mot = await h.session.ainstruct("x")
    loopback.wait_for(lambda s: s.total_requests == 1)
    t0 = time.perf_counter()
    await mot.acancel()
    assert time.perf_counter() - t0 < 0.5 and mot.is_cancelled()
    await h.assert_no_leaks()
    assert loopback.stats().total_requests == 1  # no retry after the cancellation
    await h.aclose()


@pytest.mark.model
async def test_embedded_engine_cancel_mid_generation_frees_its_slot() -> None:
    from mellea.backends.local import LocalBackend
    from mellea.stdlib.session import MelleaSession

    # One sequence slot: if cancelling leaked it, the next call could never start.
    m = MelleaSession(LocalBackend(n_threads=1, max_sequences=1))
    long = {ModelOption.MAX_NEW_TOKENS: 400, ModelOption.STREAM: True}
    mot = await m.ainstruct("Write a long story about a lighthouse.", model_options=long)
    first = await mot.astream()
    t0 = time.perf_counter()
    async with mot:
        pass  # leaving early cancels; acancel returns once the engine let go of it
    RESULTS.append(("cancellation mid-generation", "local", "async", "GenerationCancelled",
                    time.perf_counter() - t0))  # fmt: skip
    assert time.perf_counter() - t0 < 2.0
    assert mot.is_cancelled() and mot.partial_value.startswith(first) and first
    assert isinstance(mot.error, GenerationCancelled)
    short = {ModelOption.MAX_NEW_TOKENS: 8, ModelOption.TIMEOUT: 30.0}
    nxt = await m.ainstruct("Say hi.", model_options=short)
    assert (await nxt.avalue()).strip()
