"""Waking a coroutine on its own event loop, from any thread.

A *waiter* is `(loop, future, thread id)`: the reader's loop, the future it awaits, and
the thread running that loop. The producer (maybe on another thread) wakes it with
`wake()`, which sets the future directly when already on that thread and otherwise posts
it to the loop's `Inbox`.

`Inbox` batches what other threads hand to one loop. `loop.call_soon_threadsafe` writes
to the loop's self-pipe on every call — a system call, with the GIL released and taken
back around it, and a read on the other side; with hundreds of thunks in flight many
wake-ups arrive before the loop runs again, and one write serves them all.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import weakref
from collections.abc import Callable
from typing import Any

Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]", int]


def new_waiter() -> Waiter:
    """A waiter for the calling coroutine (must run inside an event loop)."""
    loop = asyncio.get_running_loop()
    return (loop, loop.create_future(), threading.get_ident())


def _set_done(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class Inbox:
    """Callbacks for one event loop from other threads, run there in arrival order;
    one `call_soon_threadsafe` per batch instead of one per callback.

    Unlike `call_soon_threadsafe`, a callback runs in the context of the batch, not of
    the thread that posted it: a callback that needs the poster's context variables
    carries a `contextvars.copy_context()` and runs in it.
    """

    __slots__ = ("__weakref__", "_armed", "_items", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        # Weakly: the inboxes are a WeakKeyDictionary by loop, whose values must not keep
        # their keys alive (a finished `asyncio.run` loop would never be freed).
        self._loop = weakref.ref(loop)
        self._items: collections.deque[tuple[Callable[[Any], object], Any]] = collections.deque()
        self._armed = False  # a drain is scheduled and has not started yet

    def post(self, callback: Callable[[Any], object], arg: Any) -> None:
        """Run `callback(arg)` on the loop soon (thread-safe; RuntimeError if it closed)."""
        self._items.append((callback, arg))  # before the check: a running drain sees it
        if not self._armed:
            loop = self._loop()
            if loop is None:
                raise RuntimeError("Event loop is closed")
            self._armed = True
            try:
                loop.call_soon_threadsafe(self._drain)
            except BaseException:
                self._armed = False
                raise

    def _drain(self) -> None:
        self._armed = False  # from here on a new post schedules another drain
        items = self._items
        while items:
            callback, arg = items.popleft()
            try:
                callback(arg)
            except Exception as exc:  # as the loop would report a failing callback
                message = "exception in a callback posted to mellea's inbox"
                asyncio.get_running_loop().call_exception_handler(
                    {"message": message, "exception": exc}
                )


_inboxes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Inbox] = weakref.WeakKeyDictionary()
_inboxes_lock = threading.Lock()


_last: tuple[weakref.ref[asyncio.AbstractEventLoop], Inbox] | None = None
"""The inbox last asked for: a thunk's wake-ups mostly go to the same reader loop."""


def inbox(loop: asyncio.AbstractEventLoop) -> Inbox | None:
    """The loop's inbox (made on first use); None for a loop that takes no weak reference."""
    global _last
    last = _last
    if last is not None and last[0]() is loop:
        return last[1]
    try:
        found = _inboxes.get(loop)
        if found is None:
            with _inboxes_lock:
                found = _inboxes.get(loop)
                if found is None:
                    found = _inboxes[loop] = Inbox(loop)
        _last = (weakref.ref(loop), found)
    except TypeError:  # no weak references to this loop type
        return None
    return found


def call_soon_from_thread(
    loop: asyncio.AbstractEventLoop, callback: Callable[[Any], object], arg: Any
) -> None:
    """`loop.call_soon_threadsafe(callback, arg)`, batched with other threads' calls."""
    box = inbox(loop)
    if box is None:
        loop.call_soon_threadsafe(callback, arg)
    else:
        box.post(callback, arg)


def wake(waiter: Waiter) -> None:
    """Resolve the waiter's future on its own loop (thread-safe, never blocks)."""
    loop, fut, thread_id = waiter
    if thread_id == threading.get_ident():
        _set_done(fut)
    elif not loop.is_closed():
        try:
            call_soon_from_thread(loop, _set_done, fut)
        except RuntimeError:  # closed meanwhile: nobody is left to wake
            pass


__all__ = ["Inbox", "Waiter", "call_soon_from_thread", "inbox", "new_waiter", "wake"]
