"""`Slots`, the O(1) FIFO semaphore behind request slots and the admission gate."""

from __future__ import annotations

import asyncio

import pytest

from mellea.backends._slots import Slots


async def test_first_come_first_served_and_counts() -> None:
    slots = Slots(2)
    await slots.acquire()
    await slots.acquire()
    assert slots.busy() and slots.free == 0
    order: list[int] = []

    async def wait(i: int) -> None:
        await slots.acquire()
        order.append(i)

    waiters = [asyncio.ensure_future(wait(i)) for i in range(3)]
    await asyncio.sleep(0)
    assert slots.waiting == 3
    for _ in range(3):
        slots.release()
        await asyncio.sleep(0)
    await asyncio.gather(*waiters)
    assert order == [0, 1, 2] and slots.used == 2 and slots.waiting == 0
    slots.release()
    slots.release()
    assert slots.free == 2 and not slots.busy()


async def test_a_cancelled_waiter_gives_up_its_place_and_any_slot_it_was_handed() -> None:
    slots = Slots(1)
    await slots.acquire()
    first = asyncio.ensure_future(slots.acquire())
    second = asyncio.ensure_future(slots.acquire())
    await asyncio.sleep(0)
    first.cancel()  # cancelled while waiting: skipped by release
    slots.release()
    await second
    assert slots.used == 1
    third = asyncio.ensure_future(slots.acquire())
    await asyncio.sleep(0)
    slots.release()  # handed to `third`...
    third.cancel()  # ...which is cancelled before it runs: the slot comes back
    with pytest.raises(asyncio.CancelledError):
        await third
    with pytest.raises(asyncio.CancelledError):
        await first
    assert slots.used == 0 and slots.waiting == 0
