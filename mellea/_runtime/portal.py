"""The I/O portal: one long-lived event loop, in one daemon thread, for all of mellea's work.

Every generation runs here, whoever asked for it: sync methods block on a
`concurrent.futures.Future`; async methods get a thunk whose producer runs here and whose
readers are woken on their own loop. Because generations never run on the caller's loop,
a thunk can be waited for from anywhere — `str(thunk)` inside `asyncio.run(...)`, a sync
call inside a notebook's running loop — without deadlock, and there is no per-call loop
or thread.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextvars
import logging
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from .waiters import Inbox, Waiter, inbox, wake

T = TypeVar("T")
logger = logging.getLogger("mellea")

_SHUTDOWN_GRACE_S = 2.0


class TaskHandle:
    """A task started on the portal; cancellable and awaitable from any thread or loop."""

    __slots__ = ("_cancel_requested", "_done", "_portal", "_stopped_waiters", "task")

    def __init__(self, portal: Portal) -> None:
        self._portal = portal
        self.task: asyncio.Task[Any] | None = None
        self._cancel_requested = False
        self._done = False
        self._stopped_waiters: list[Waiter] | None = None

    def _start(
        self, coro: Coroutine[Any, Any, Any], context: contextvars.Context | None = None
    ) -> None:
        if self._cancel_requested:
            coro.close()
            self._on_done(None)
            return
        self.task = self._portal.loop.create_task(coro, context=context)
        self.task.add_done_callback(self._on_done)

    def _start_in(self, started: tuple[Coroutine[Any, Any, Any], contextvars.Context]) -> None:
        """`_start` in the spawning caller's context (its context variables: hook scopes,
        deadlines, telemetry) — posted through the inbox, which runs callbacks in its own."""
        self._start(*started)

    def _on_done(self, _task: object) -> None:
        self._done = True
        # A finished task (its coroutine, context, ...) is of no more use: the thunk that
        # keeps this handle, maybe for a long time in a history, need not keep it alive.
        self.task = None
        waiters, self._stopped_waiters = self._stopped_waiters, None
        for waiter in waiters or ():
            wake(waiter)

    def cancel(self) -> None:
        self._cancel_requested = True
        if self._portal.on_portal_thread():
            if self.task is not None:
                self.task.cancel()
        else:
            self._portal.loop.call_soon_threadsafe(self._cancel_on_loop)

    def _cancel_on_loop(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def done(self) -> bool:
        return self._done

    async def wait_stopped(self) -> None:
        if self._done:
            return
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        waiters = self._stopped_waiters
        if waiters is None:
            waiters = self._stopped_waiters = []
        waiters.append((loop, fut, threading.get_ident()))
        if self._done:  # finished while we registered (on the portal thread)
            return
        await fut


class Portal:
    """Owner of mellea's I/O event loop thread (created lazily, restarted after fork)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inbox: Inbox | None = None
        self._thread: threading.Thread | None = None
        self._pid = 0

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is None or (_NO_FORK_HOOK and self._pid != os.getpid()):
            loop = self._start()
        return loop

    def _forget_after_fork(self) -> None:
        """In a forked child: the I/O thread did not come along; start anew on first use."""
        self._lock = threading.Lock()
        self._loop = None
        self._inbox = None
        self._thread = None

    def on_portal_thread(self) -> bool:
        thread = self._thread
        return thread is not None and thread.ident == threading.get_ident()

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is not None and self._pid == os.getpid():
                return self._loop
            loop = asyncio.new_event_loop()
            ready = threading.Event()
            thread = threading.Thread(
                target=self._run, args=(loop, ready), name="mellea-io", daemon=True
            )
            thread.start()
            ready.wait()
            self._inbox = inbox(loop)
            self._loop, self._thread, self._pid = loop, thread, os.getpid()
            return loop

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        loop.run_forever()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> TaskHandle:
        """Start `coro` as a task on the portal loop now; never blocks."""
        handle = TaskHandle(self)
        loop = self.loop
        if self.on_portal_thread():
            handle._start(coro)
        elif self._inbox is not None:  # batched with other threads' spawns
            self._inbox.post(handle._start_in, (coro, contextvars.copy_context()))
        else:
            loop.call_soon_threadsafe(handle._start, coro)
        return handle

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the portal and block until it returns (the sync bridge)."""
        if self.on_portal_thread():
            coro.close()
            raise RuntimeError(
                "a blocking mellea call was made on mellea's own I/O thread (for example "
                "from a sync callback that mellea runs); use the async method instead"
            )
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return fut.result()
        except BaseException:
            fut.cancel()  # e.g. KeyboardInterrupt: stop the work we were waiting for
            raise

    def shutdown(self) -> None:
        """Cancel what still runs, close the loop and join the thread (best effort)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None or self._pid != os.getpid() or loop.is_closed():
            return

        async def _cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=_SHUTDOWN_GRACE_S)

        try:
            asyncio.run_coroutine_threadsafe(_cancel_all(), loop).result(_SHUTDOWN_GRACE_S + 1)
        except (concurrent.futures.TimeoutError, RuntimeError):
            logger.debug("some tasks did not stop at shutdown")
        loop.call_soon_threadsafe(loop.stop)
        thread.join(_SHUTDOWN_GRACE_S)
        if not thread.is_alive():
            loop.close()


_portal = Portal()

# A forked child must not use the parent's loop (its thread is gone). Where the platform
# says when a fork happens, the portal is reset then; elsewhere `loop` compares the pid on
# every use (a system call per access).
_NO_FORK_HOOK = not hasattr(os, "register_at_fork")
if not _NO_FORK_HOOK:
    os.register_at_fork(after_in_child=_portal._forget_after_fork)


def get_portal() -> Portal:
    """The process-wide portal."""
    return _portal


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on mellea's I/O loop and return its result (blocking)."""
    return _portal.run(coro)


def refuse_blocking_on_portal() -> None:
    """Raise instead of blocking mellea's own I/O thread (which would deadlock)."""
    if _portal.on_portal_thread():
        raise RuntimeError(
            "str()/blocking access to an unfinished thunk on mellea's own I/O thread would "
            "deadlock; use `await thunk.avalue()` there"
        )


atexit.register(_portal.shutdown)

__all__ = ["Portal", "TaskHandle", "get_portal", "refuse_blocking_on_portal", "run_sync"]
