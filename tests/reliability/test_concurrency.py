"""The per-backend concurrency limit: 10,000 thunks queue behind it, and a slot is tied to
its request — released on success, error, cancellation (also while still queued), the
deadline, an early `break` out of `async for`, and leaving `async with mot:` early."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from mellea.backends import ModelOption
from mellea.core.errors import BackendStatusError, DeadlineExceededError, GenerationCancelled
from tests.servers import LoopbackServer, Reply

from ._harness import RESULTS, Harness, Kind

pytestmark = pytest.mark.timeout(120)
N = 10_000
LIMIT = 32


@pytest.fixture
def spawned() -> Iterator[LoopbackServer]:
    """A server in its own process: the 10,000-thunk run uses both cores."""
    srv = LoopbackServer().spawn()
    srv.configure(record_requests=False)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.parametrize("kind", ["ollama", "openai"])
async def test_ten_thousand_thunks_queue_behind_the_limit(
    spawned: LoopbackServer, kind: Kind
) -> None:
    h = Harness(kind, "async", spawned, max_concurrency=LIMIT)
    m = h.session
    t0 = time.perf_counter()
    thunks = [await m.ainstruct(f"q{i}") for i in range(N)]
    started = time.perf_counter() - t0
    # All were fired; at most LIMIT requests (and connections) exist at any moment; the
    # rest queue at the backend's admission gate, before any request state is built.
    limiter = h.http.endpoints[0].limiter_stats()
    gate = h.http.admission.stats()
    assert limiter["in_flight"] <= LIMIT and gate["admitted"] <= LIMIT
    assert gate["admitted"] + gate["waiting"] > LIMIT
    values = await asyncio.gather(*(t.avalue() for t in thunks))
    elapsed = time.perf_counter() - t0
    RESULTS.append((f"{N} thunks at once (limit {LIMIT})", kind, "async", "ok", elapsed))
    assert values == [f"Echo: q{i}" for i in range(N)]
    stats = spawned.stats(include_requests=False)
    assert stats.total_requests == N
    assert stats.max_in_flight <= LIMIT and stats.max_open_connections <= LIMIT
    assert elapsed < 40.0, f"{N} thunks took {elapsed:.1f} s (fired in {started:.1f} s)"
    await h.assert_no_leaks()
    await h.aclose()


def test_sync_callers_from_many_threads_share_the_limit(loopback: LoopbackServer) -> None:
    loopback.configure(ttft=0.02, record_requests=False)
    h = Harness("ollama", "sync", loopback, max_concurrency=4)
    idents: set[int] = set()

    def call(i: int) -> str:
        idents.add(threading.get_ident())
        return str(h.session.instruct(f"q{i}"))

    with ThreadPoolExecutor(32) as pool:
        values = list(pool.map(call, range(200)))
    assert values == [f"Echo: q{i}" for i in range(200)] and len(idents) > 4
    stats = loopback.stats(include_requests=False)
    assert stats.max_in_flight <= 4 and stats.max_open_connections <= 4
    asyncio.run(h.assert_no_leaks())
    asyncio.run(h.aclose())


async def test_slot_released_on_success_and_error(loopback: LoopbackServer, kind: Kind) -> None:
    h = Harness(kind, "async", loopback, max_concurrency=1)
    loopback.enqueue(Reply(status=400, error_body="bad"), Reply(status=400, error_body="bad"))
    for prompt in ("ok", "bad", "ok"):
        mot = await h.session.ainstruct(prompt, model_options={ModelOption.STREAM: True})
        try:
            await mot.avalue()
        except BackendStatusError:
            pass
        await h.assert_no_leaks()
    loopback.enqueue(Reply(status=400, error_body="bad"))
    thunks = [await h.session.ainstruct(f"q{i}") for i in range(5)]  # one fails
    results = await asyncio.gather(*(t.avalue() for t in thunks), return_exceptions=True)
    assert sum(isinstance(r, BackendStatusError) for r in results) == 1
    await h.assert_no_leaks()
    await h.aclose()


async def test_leaving_async_with_early_frees_the_slot_for_the_next(
    loopback: LoopbackServer, kind: Kind
) -> None:
    loopback.configure(tokens=100, token_delay=0.02)
    loopback.enqueue(Reply(text="quick", match="b", token_delay=0.0))
    h = Harness(kind, "async", loopback, max_concurrency=1)
    first = await h.session.ainstruct("a", model_options={ModelOption.STREAM: True})
    queued = await h.session.ainstruct("b")
    async with first:
        async for _chunk in first:
            break  # leaving the block cancels the generation
    assert first.is_cancelled() and first.partial_value.startswith("tok0")
    err = first.error
    assert isinstance(err, GenerationCancelled) and err.partial_output == first.partial_value
    # The slot went to the queued call at once (it finishes long before 100 x 20 ms).
    t0 = time.perf_counter()
    assert await queued.avalue() == "quick"
    assert time.perf_counter() - t0 < 1.0
    await h.assert_no_leaks()
    assert loopback.stats().requests[0].client_disconnected
    await h.aclose()


async def test_break_out_of_async_for_does_not_leak_the_slot(
    loopback: LoopbackServer, kind: Kind
) -> None:
    # A plain `break` abandons the reading, not the generation: it finishes in the
    # background and then gives its slot back (the producer owns it, not the reader).
    loopback.configure(tokens=20, token_delay=0.01)
    h = Harness(kind, "async", loopback, max_concurrency=1)
    mot = await h.session.ainstruct("a", model_options={ModelOption.STREAM: True})
    async for _chunk in mot:
        break
    nxt = await h.session.ainstruct("b")
    assert (await nxt.avalue()).startswith("tok0")
    assert mot.is_computed() and mot.value and mot.value.endswith("tok19")
    await h.assert_no_leaks()
    await h.aclose()


async def test_cancelling_queued_and_running_thunks_frees_every_slot(
    loopback: LoopbackServer, kind: Kind
) -> None:
    # The first wave must still be streaming when the last thunk is queued, however
    # slowly a loaded machine creates 1000 thunks: 400 tokens x 50 ms = 20 s per request.
    loopback.configure(tokens=400, token_delay=0.05)
    h = Harness(kind, "async", loopback, max_concurrency=8)
    thunks = [
        await h.session.ainstruct(f"q{i}", model_options={ModelOption.STREAM: True})
        for i in range(1000)
    ]
    await thunks[0].astream()  # the first wave is streaming, the rest are queued
    limiter = h.http.endpoints[0].limiter_stats
    gate = h.http.admission.stats
    while gate()["waiting"] + gate()["admitted"] < 1000:  # noqa: ASYNC110 - portal-side
        await asyncio.sleep(0.01)
    assert limiter()["in_flight"] == 8 and gate()["admitted"] == 8
    t0 = time.perf_counter()
    await asyncio.gather(*(t.acancel() for t in thunks))
    RESULTS.append(("cancel 1000 (8 running)", kind, "async", "GenerationCancelled",
                    time.perf_counter() - t0))  # fmt: skip
    assert all(t.is_cancelled() for t in thunks)
    assert thunks[0].partial_value.startswith("tok0")
    await h.assert_no_leaks()
    assert loopback.stats(include_requests=False).total_requests <= 16
    await h.aclose()


async def test_deadline_while_queued_frees_the_queue_position(
    loopback: LoopbackServer, kind: Kind
) -> None:
    loopback.configure(ttft=0.5)
    h = Harness(kind, "async", loopback, max_concurrency=1)
    opts = {ModelOption.TIMEOUT: 0.3}
    running = await h.session.ainstruct("slow")
    queued = [await h.session.ainstruct(f"q{i}", model_options=opts) for i in range(20)]
    results = await asyncio.gather(*(t.avalue() for t in queued), return_exceptions=True)
    assert all(isinstance(r, DeadlineExceededError) for r in results)
    assert await running.avalue() == "Echo: slow"
    await h.assert_no_leaks()
    assert loopback.stats(include_requests=False).total_requests == 1
    await h.aclose()
