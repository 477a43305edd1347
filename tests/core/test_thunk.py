"""ModelOutputThunk semantics, with real producers on the I/O portal and on plain threads."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from mellea.core import ModelOutputThunk
from mellea.core.errors import BackendError, ConcurrentReadError, GenerationCancelled
from mellea.helpers.portal import get_portal, run_sync


def produced(
    pieces: list[str], delay: float = 0.01, fail: BackendError | None = None
) -> tuple[ModelOutputThunk[str], dict[str, bool]]:
    """A thunk fed by a task on the portal, like a backend's; `state` records cancellation."""
    mot: ModelOutputThunk[str] = ModelOutputThunk()
    state = {"cancelled": False, "finished": False}

    async def producer() -> None:
        try:
            for p in pieces:
                await asyncio.sleep(delay)
                mot._feed(p)
            if fail is not None:
                mot._fail(fail)
            else:
                mot._resolve()
            state["finished"] = True
        except asyncio.CancelledError:
            state["cancelled"] = True
            mot._fail(GenerationCancelled("cancelled"), cancelled=True)
            raise

    mot._attach(get_portal().spawn(producer()))
    return mot, state


async def test_value_is_none_until_computed() -> None:
    mot, _ = produced(["a", "b"])
    assert not mot.is_computed()
    assert mot.value is None
    assert await mot.avalue() == "ab"
    assert mot.is_computed() and mot.value == "ab"


async def test_astream_returns_only_new_text_and_chunks_join_to_value() -> None:
    pieces = [f"w{i} " for i in range(30)]
    mot, _ = produced(pieces, delay=0.005)
    chunks = []
    while not mot.is_computed():
        chunks.append(await mot.astream())
    assert "".join(chunks) == mot.value == "".join(pieces)
    assert len([c for c in chunks if c]) > 3
    assert await mot.astream() == ""  # everything was delivered already


async def test_astream_on_a_computed_thunk_returns_the_full_value() -> None:
    mot, _ = produced(["x", "y", "z"], delay=0)
    await mot.avalue()
    assert await mot.astream() == "xyz"
    assert await mot.astream() == ""
    assert await ModelOutputThunk("ready").astream() == "ready"


async def test_async_for_yields_the_same_deltas() -> None:
    mot, _ = produced(["a", "b", "c"])
    assert "".join([d async for d in mot]) == "abc"


async def test_two_concurrent_readers_get_a_clear_error() -> None:
    mot, _ = produced(["a"] * 20, delay=0.01)
    first = asyncio.create_task(mot.astream())
    await asyncio.sleep(0)  # the first reader owns the stream now
    with pytest.raises(ConcurrentReadError):
        await mot.astream()

    async def second_loop() -> None:
        async for _ in mot:
            pass

    with pytest.raises(ConcurrentReadError):
        await second_loop()
    await first
    mot.cancel()


async def test_a_finished_reader_task_hands_over() -> None:
    mot, _ = produced(["a", "b"], delay=0.01)
    assert await asyncio.create_task(mot.astream()) == "a"
    rest = ""
    while not mot.is_computed():
        rest += await mot.astream()
    assert rest == "b"


async def test_async_with_cancels_an_abandoned_generation() -> None:
    mot, state = produced(["x"] * 100, delay=0.01)
    async with mot:
        async for _ in mot:
            break
    assert mot.is_cancelled()
    assert state["cancelled"] and not state["finished"]
    assert mot.partial_value.startswith("x")
    with pytest.raises(GenerationCancelled) as info:
        await mot.avalue()
    assert info.value.partial_output == mot.partial_value


async def test_cancelling_the_awaiting_task_cancels_the_generation() -> None:
    mot, state = produced(["x"] * 100, delay=0.01)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(mot.avalue(), 0.05)
    await mot.acancel()  # returns once the producer really stopped
    assert state["cancelled"]


async def test_shield_keeps_the_generation_running() -> None:
    mot, state = produced(["x"] * 10, delay=0.01)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(asyncio.shield(mot.avalue()), 0.02)
    assert await mot.avalue() == "x" * 10
    assert state["finished"]


async def test_failure_keeps_partial_text_and_stream_delivers_it_first() -> None:
    mot, _ = produced(["a", "b"], fail=BackendError("boom"))
    got = ""
    with pytest.raises(BackendError) as info:
        while not mot.is_computed():
            got += await mot.astream()
    assert got == "ab"
    assert info.value.partial_output == "ab" == mot.partial_value
    assert mot.error is info.value
    with pytest.raises(BackendError):
        await mot.avalue()


def test_str_blocks_until_computed_from_a_plain_thread() -> None:
    mot, _ = produced(["he", "llo"], delay=0.02)
    assert str(mot) == "hello"


async def test_str_inside_a_running_loop_waits_for_the_value() -> None:
    # The spec's first example does exactly this: print(str(await m.ainstruct(...))).
    mot, _ = produced(["ok"], delay=0.05)
    assert str(mot) == "ok"


def test_producer_on_another_thread_feeds_a_reader_on_a_loop() -> None:
    mot: ModelOutputThunk[str] = ModelOutputThunk()

    class Handle:
        def cancel(self) -> None: ...
        async def wait_stopped(self) -> None: ...

    mot._attach(Handle())

    def engine() -> None:
        for i in range(50):
            time.sleep(0.001)
            mot._feed(f"{i},")
        mot._resolve()

    threading.Thread(target=engine).start()

    async def read() -> str:
        return "".join([d async for d in mot])

    assert asyncio.run(read()) == "".join(f"{i}," for i in range(50))


def test_a_thunk_without_producer_says_so() -> None:
    with pytest.raises(RuntimeError, match="no generation attached"):
        asyncio.run(ModelOutputThunk().avalue())


def test_blocking_on_the_io_thread_is_refused() -> None:
    mot, _ = produced(["x"], delay=0.2)

    async def on_portal() -> str:
        return str(mot)

    with pytest.raises(RuntimeError, match="deadlock"):
        run_sync(on_portal())
    mot.cancel()


def test_thousands_of_pending_thunks_are_cheap() -> None:
    import tracemalloc

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    thunks = [ModelOutputThunk() for _ in range(5000)]
    per_thunk = (tracemalloc.get_traced_memory()[0] - before) / len(thunks)
    tracemalloc.stop()
    assert per_thunk < 4096, per_thunk
