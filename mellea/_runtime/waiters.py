"""Waking a coroutine on its own event loop, from any thread.

A *waiter* is `(loop, future, thread id)`: the reader's loop, the future it awaits, and
the thread running that loop. The producer (maybe on another thread) wakes it with
`wake()`, which sets the future directly when already on that thread and goes through
`call_soon_threadsafe` otherwise.
"""

from __future__ import annotations

import asyncio
import threading

Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]", int]


def new_waiter() -> Waiter:
    """A waiter for the calling coroutine (must run inside an event loop)."""
    loop = asyncio.get_running_loop()
    return (loop, loop.create_future(), threading.get_ident())


def _set_done(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def wake(waiter: Waiter) -> None:
    """Resolve the waiter's future on its own loop (thread-safe, never blocks)."""
    loop, fut, thread_id = waiter
    if thread_id == threading.get_ident():
        _set_done(fut)
    elif not loop.is_closed():
        loop.call_soon_threadsafe(_set_done, fut)


__all__ = ["Waiter", "new_waiter", "wake"]
