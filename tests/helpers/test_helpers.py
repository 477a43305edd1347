"""mellea.helpers: thunks fed from streams, the client cache, sync-over-async, annotations."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

import mellea.helpers as helpers
from mellea.core import ModelOutputThunk
from mellea.core.errors import BackendError, GenerationCancelled, ReadTimeoutError
from mellea.helpers.annotation_helpers import resolve_signature_annotations
from mellea.helpers.async_helpers import (
    DEFAULT_CHUNK_TIMEOUT,
    ClientCache,
    get_current_event_loop,
    send_to_queue,
    wait_for_all_mots,
)
from mellea.helpers.event_loop_helper import _run_async_in_thread, _schedule_async_in_thread
from mellea.helpers.portal import get_portal

if TYPE_CHECKING:
    from decimal import Decimal


async def chunks(items: list[Any], delay: float = 0.01) -> AsyncIterator[Any]:
    for item in items:
        await asyncio.sleep(delay)
        yield item


async def test_send_to_queue_streams_chunks_into_a_thunk() -> None:
    mot: ModelOutputThunk[str] = ModelOutputThunk()
    task = asyncio.create_task(send_to_queue(chunks(["Hel", "lo", {"meta": 1}, "!"]), mot))
    await asyncio.sleep(0)
    received = [delta async for delta in mot]
    await task
    assert "".join(received) == "Hello!" == mot.value


async def test_send_to_queue_from_a_coroutine_and_a_text_mapper() -> None:
    async def whole() -> dict[str, str]:
        return {"text": "done"}

    mot: ModelOutputThunk[str] = ModelOutputThunk()
    await send_to_queue(whole(), mot, to_text=lambda item: item["text"])
    assert mot.value == "done"


async def test_send_to_queue_times_out_a_stalled_stream_keeping_the_partial_text() -> None:
    stopped = threading.Event()
    mot: ModelOutputThunk[str] = ModelOutputThunk()
    await send_to_queue(
        chunks(["a", "b", "c"], delay=0.3), mot, chunk_timeout=0.1, on_timeout=stopped.set
    )
    assert stopped.is_set() and isinstance(mot.error, ReadTimeoutError)
    with pytest.raises(ReadTimeoutError):
        await mot.avalue()
    assert DEFAULT_CHUNK_TIMEOUT == 120.0


async def test_send_to_queue_wraps_foreign_errors_and_can_be_cancelled() -> None:
    async def broken() -> AsyncIterator[str]:
        yield "x"
        raise ConnectionResetError("peer went away")

    mot: ModelOutputThunk[str] = ModelOutputThunk()
    await send_to_queue(broken(), mot)
    assert isinstance(mot.error, BackendError) and mot.partial_value == "x"
    assert isinstance(mot.error.__cause__, ConnectionResetError)

    endless: ModelOutputThunk[str] = ModelOutputThunk()
    task = asyncio.create_task(send_to_queue(chunks(["t"] * 1000), endless))
    await asyncio.sleep(0.05)
    await endless.acancel()  # cancels the task feeding it, and waits for it
    assert task.done() and endless.cancelled
    assert isinstance(endless.error, GenerationCancelled)


async def test_wait_for_all_mots_and_current_loop() -> None:
    mots: list[ModelOutputThunk[str]] = [ModelOutputThunk() for _ in range(3)]
    tasks = [asyncio.create_task(send_to_queue(chunks([str(i)]), m)) for i, m in enumerate(mots)]
    await asyncio.sleep(0)
    await wait_for_all_mots(mots)
    await asyncio.gather(*tasks)
    assert [m.value for m in mots] == ["0", "1", "2"]
    assert get_current_event_loop() is asyncio.get_running_loop()


def test_no_current_loop_outside_async_code() -> None:
    assert get_current_event_loop() is None


class FakeClient:
    def __init__(self, name: str) -> None:
        self.name = name
        self.closed_on: asyncio.AbstractEventLoop | None = None

    async def aclose(self) -> None:
        self.closed_on = asyncio.get_running_loop()


def test_client_cache_evicts_lru_and_closes_on_the_owning_loop() -> None:
    cache = ClientCache(2, aclose=lambda c: c.aclose())
    portal_loop = get_portal().loop
    other = asyncio.new_event_loop()  # a loop that is not running
    try:
        a, b, c = FakeClient("a"), FakeClient("b"), FakeClient("c")
        assert cache.get_or_create(None, lambda: a) is a
        assert cache.get_or_create(None, lambda: FakeClient("never")) is a
        cache.put(other, b)
        assert cache.current_size() == 2 and cache.get(None) is a  # a is now most recent
        cache.put("third", c)  # evicts b, closed on its own (idle) loop
        assert b.closed_on is other and a.closed_on is None
        cache.clear()
        assert cache.current_size() == 0
        assert a.closed_on is portal_loop  # made outside any loop: mellea's I/O loop
        assert c.closed_on is portal_loop
    finally:
        other.close()


async def test_client_cache_aclear_awaits_clients_of_this_loop() -> None:
    cache = ClientCache(4, aclose=lambda c: c.aclose())
    here = asyncio.get_running_loop()
    mine, shared = FakeClient("mine"), FakeClient("shared")
    cache.put(here, mine)
    cache.put(None, shared)
    await cache.aclear()
    assert mine.closed_on is here and shared.closed_on is get_portal().loop


def test_sync_over_async_uses_the_one_io_loop() -> None:
    async def where() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    assert _run_async_in_thread(where()) is get_portal().loop
    assert _schedule_async_in_thread(where()).result(5) is get_portal().loop


def typed(amount: Decimal, note: str = "") -> Missing:  # type: ignore[name-defined]  # noqa: F821
    raise NotImplementedError


def test_resolve_signature_annotations_resolves_what_it_can() -> None:
    sig = resolve_signature_annotations(typed)
    assert sig.parameters["note"].annotation is str
    assert sig.parameters["amount"].annotation == "Decimal"  # only imported for type checking
    assert sig.return_annotation == "Missing"


def test_package_level_names() -> None:
    assert helpers.wait_for_all_mots is wait_for_all_mots
    assert helpers.ClientCache is ClientCache and helpers.send_to_queue is send_to_queue
    assert helpers._run_async_in_thread is _run_async_in_thread
    assert helpers._ServerType is not None and callable(
        helpers.is_vllm_server_with_structured_output
    )
    with pytest.raises(AttributeError):
        helpers.no_such_helper  # noqa: B018
