"""`Slots`: a first-come-first-served counting semaphore whose every operation is O(1).

`asyncio.Semaphore.acquire` (Python 3.11) first calls `locked()`, which scans the waiters
with a generator; with thousands of thunks queued at a backend's admission gate that is
a scan per request. Here a free slot is one comparison, and a released slot is handed
straight to the longest waiter.
"""

from __future__ import annotations

import asyncio
from collections import deque


class Slots:
    """At most `limit` holders at once; the others wait in arrival order."""

    __slots__ = ("_waiters", "limit", "used", "waiting")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        """Slots held (a slot handed to a waiter counts from the moment it is handed)."""
        self.waiting = 0
        """Callers waiting for a slot."""
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def free(self) -> int:
        return self.limit - self.used

    def busy(self) -> bool:
        """True if `acquire` would wait."""
        return self.used >= self.limit or self.waiting > 0

    def try_acquire(self) -> bool:
        """Take a free slot now if there is one and nobody is waiting for it."""
        if self.used < self.limit and not self.waiting:
            self.used += 1
            return True
        return False

    async def acquire(self) -> None:
        if self.try_acquire():
            return
        waiter = self.queue()
        try:
            await waiter
        except BaseException:
            self.left_queue(waiter, failed=True)
            raise
        self.left_queue(waiter, failed=False)

    def queue(self) -> asyncio.Future[None]:
        """Join the queue: the future is set when a slot is handed over. Await it, then
        call `left_queue` (what `acquire` does; a caller awaiting it in its own frame
        saves a coroutine per queued call)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self.waiting += 1
        return waiter

    def left_queue(self, waiter: asyncio.Future[None], *, failed: bool) -> None:
        """The wait for `waiter` ended; `failed`: it raised (cancelled, timed out) — a
        slot handed over meanwhile is passed on. (A cancelled waiter stays in the deque;
        `release` skips it.)"""
        self.waiting -= 1
        if failed and waiter.done() and not waiter.cancelled():
            self.release()

    def release(self) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # handed over: `used` stays as it is
                return
        self.used -= 1


__all__ = ["Slots"]
