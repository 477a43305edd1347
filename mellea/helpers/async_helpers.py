"""Async utilities for thunks and custom backends.

- `wait_for_all_mots(mots)` — wait for several thunks (they generate concurrently).
- `send_to_queue(co, mot)` — drive a thunk from a stream: the chunks of an async
  iterator (or the awaited value of a coroutine) become the thunk's text, then it is
  resolved; a stall longer than `chunk_timeout` fails it with `ReadTimeoutError`, any
  other error with that error (non-mellea ones wrapped in `BackendError`). For custom
  backends built on another client library.
- `get_current_event_loop()` — the running loop, or None.
- `ClientCache` — an LRU of loop-bound clients that closes evicted ones on their loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterable, AsyncIterator, Callable, Coroutine, Iterable
from typing import Any

from .._runtime.waiters import Waiter, new_waiter, wake
from ..backends.model_options import DEFAULT_STREAM_TIMEOUT_S
from ..core.errors import BackendError, MelleaError, ReadTimeoutError
from ..core.thunk import ModelOutputThunk
from .client_cache import ClientCache

logger = logging.getLogger("mellea")

DEFAULT_CHUNK_TIMEOUT: float = DEFAULT_STREAM_TIMEOUT_S
"""Seconds `send_to_queue` waits for each chunk (the first one included) by default."""


async def wait_for_all_mots(mots: Iterable[ModelOutputThunk[Any]]) -> None:
    """Wait until every thunk is computed; they generate concurrently.

    The first failure is raised once all have settled, so no generation is left running
    unobserved; every thunk keeps its own result or error.
    """
    pending = [m for m in mots if not m.is_computed()]
    if not pending:
        return
    results = await asyncio.gather(*(m.avalue() for m in pending), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


def get_current_event_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running in this thread, or None."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class _CurrentTaskHandle:
    """The running task as a thunk's generation handle (cancel it, wait for it)."""

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self._task = task
        self._loop = task.get_loop()
        self._waiters: list[Waiter] = []
        self._lock = threading.Lock()
        task.add_done_callback(self._on_done)

    def _on_done(self, _task: object) -> None:
        with self._lock:
            waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            wake(waiter)

    def cancel(self) -> None:
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._task.cancel)

    async def wait_stopped(self) -> None:
        if self._task.done():
            return
        waiter = new_waiter()
        with self._lock:
            if self._task.done():
                return
            self._waiters.append(waiter)
        await waiter[1]


async def send_to_queue(
    co: Coroutine[Any, Any, AsyncIterator[Any] | Any] | AsyncIterator[Any],
    mot: ModelOutputThunk[Any],
    *,
    chunk_timeout: float | None = DEFAULT_CHUNK_TIMEOUT,
    on_timeout: Callable[[], None] | None = None,
    to_text: Callable[[Any], str | None] = lambda item: item if isinstance(item, str) else None,
) -> None:
    """Feed `mot` from `co` until it ends, then resolve it (or fail it; never raises).

    `to_text` turns each item into text (None: nothing to add). `on_timeout` is called
    (never blocking) when no chunk came within `chunk_timeout` seconds, e.g. to stop work
    outside the loop. Cancelling the task running this (or the thunk) stops the stream.
    """
    task = asyncio.current_task()
    if mot._handle is None and task is not None:
        mot._attach(_CurrentTaskHandle(task))
    stream: Any = None
    try:
        stream = await co if isinstance(co, Coroutine) else co
        if not isinstance(stream, AsyncIterable):
            text = to_text(stream)
            if text:
                mot._feed(text)
            mot._resolve()
            return
        iterator = aiter(stream)
        while True:
            try:
                async with asyncio.timeout(chunk_timeout):
                    item = await anext(iterator)
            except StopAsyncIteration:
                break
            except TimeoutError:
                if on_timeout is not None:
                    try:
                        on_timeout()
                    except Exception:  # the timeout stays the error the reader sees
                        logger.debug("send_to_queue: on_timeout raised", exc_info=True)
                raise ReadTimeoutError(
                    f"no chunk for {chunk_timeout} s (time to first token included); "
                    "raise the timeout (ModelOption.STREAM_TIMEOUT) or pass None"
                ) from None
            text = to_text(item)
            if text:
                mot._feed(text)
        mot._resolve()
    except asyncio.CancelledError:
        from ..core.errors import GenerationCancelled

        mot._fail(GenerationCancelled("the generation was cancelled"), cancelled=True)
        raise
    except MelleaError as exc:
        mot._fail(exc)
    except Exception as exc:
        error = BackendError(f"the stream failed: {type(exc).__name__}: {exc}")
        error.__cause__ = exc
        mot._fail(error)
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None and not mot.is_computed():
            try:
                await close()
            except Exception:  # closing an already broken stream; its error is on the thunk
                pass


__all__ = [
    "DEFAULT_CHUNK_TIMEOUT",
    "ClientCache",
    "get_current_event_loop",
    "send_to_queue",
    "wait_for_all_mots",
]
