"""The reader side of `ModelOutputThunk`: streaming, watching and waiting.

`ThunkReading` is a base class of `ModelOutputThunk` holding no state of its own (no
`__init__`, no class attributes): the attributes it reads and their class-level defaults
are the thunk's (`thunk.py`), so a thunk is as small and as quick to make with it. The producer side (`_feed`,
`_resolve`, `_fail`) and the state transitions stay in `thunk.py`, next to the fields.
"""

from __future__ import annotations

import asyncio
import enum
import threading
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TYPE_CHECKING, Any

from .._runtime.portal import refuse_blocking_on_portal
from .._runtime.waiters import Waiter
from .errors import ConcurrentReadError, MelleaError

if TYPE_CHECKING:
    from .thunk import GenerationHandle


class _State(enum.Enum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


# Module-level names for the states: `_State.DONE` goes through the enum metaclass's
# `__getattr__` hook (a method-wrapper object and ~10x the time of a global read), and
# thunk states are read many times per call.
_PENDING = _State.PENDING
_DONE = _State.DONE
_FAILED = _State.FAILED
_CANCELLED = _State.CANCELLED


class ThunkReading:
    """`astream()`, `async for`, `watch()` and the waits behind `avalue()` and `str()`."""

    if TYPE_CHECKING:  # the thunk's fields (declared in `ModelOutputThunk`)
        _lock: threading.Lock
        _parts: list[str] | tuple[str, ...]
        _state: _State
        _read_idx: int
        _reader: asyncio.Task[Any] | None
        _stream_waiter: Waiter | None
        _done_waiters: list[Waiter] | None
        _done_event: threading.Event | None
        _handle: GenerationHandle | None
        _watchers: list[Waiter] | None

        def cancel(self) -> bool: ...
        def _raised_error(self) -> MelleaError: ...

    async def astream(self) -> str:
        """Return the text generated since the previous call, waiting for some if needed."""
        self._claim_reader()
        while True:
            with self._lock:
                end = len(self._parts)
                if self._read_idx < end:
                    chunk = "".join(self._parts[self._read_idx : end])
                    self._read_idx = end
                    return chunk
                state = self._state
                if state is _PENDING:
                    if self._stream_waiter is not None:
                        raise ConcurrentReadError(
                            "another coroutine is already reading this thunk's stream; "
                            "a thunk has a single reader"
                        )
                    self._check_has_producer()
                    loop = asyncio.get_running_loop()
                    fut: asyncio.Future[None] = loop.create_future()
                    self._stream_waiter = (loop, fut, threading.get_ident())
            if state is _DONE:
                return ""
            if state is not _PENDING:
                raise self._raised_error()
            try:
                await fut
            finally:
                self._stream_waiter = None

    def __aiter__(self) -> AsyncIterator[str]:
        self._claim_reader()
        return self

    async def __anext__(self) -> str:
        chunk = await self.astream()
        if chunk:
            return chunk
        raise StopAsyncIteration

    async def watch(self) -> AsyncGenerator[str, None]:
        """The generated text as it arrives, from the start, without being its reader.

        Unlike `astream()`, any number of watchers may follow one thunk alongside its
        reader (streaming validation watches attempts a UI may be reading). Ends when
        the generation ends, whether it succeeded or not (check `error` afterwards).
        """
        seen = 0
        while True:
            fut: asyncio.Future[None] | None = None
            with self._lock:
                end = len(self._parts)
                if seen < end:
                    chunk = "".join(self._parts[seen:end])
                    seen = end
                elif self._state is not _PENDING:
                    return
                else:
                    self._check_has_producer()
                    loop = asyncio.get_running_loop()
                    fut = loop.create_future()
                    if self._watchers is None:
                        self._watchers = []
                    self._watchers.append((loop, fut, threading.get_ident()))
            if fut is None:
                yield chunk
            else:
                await fut

    def _check_has_producer(self) -> None:
        if self._handle is None:
            raise RuntimeError(
                "this ModelOutputThunk has no generation attached and no value; "
                "thunks come from backends (m.ainstruct(...), backend.generate_from_context)"
            )

    def _claim_reader(self) -> None:
        task = asyncio.current_task()
        owner = self._reader
        if owner is not None and owner is not task and not owner.done():
            raise ConcurrentReadError(
                "this thunk's stream is already being read by another task; "
                "a thunk has a single reader"
            )
        self._reader = task

    async def _wait_quietly(self) -> None:
        """Wait until settled without raising its error or cancelling it if we are cancelled."""
        if self._state is _PENDING:
            await self._wait_settled(propagate_cancel=False)

    async def _wait_settled(self, *, propagate_cancel: bool = True) -> None:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self._state is not _PENDING:
                return
            self._check_has_producer()
            if self._done_waiters is None:
                self._done_waiters = []
            self._done_waiters.append((loop, fut, threading.get_ident()))
        try:
            await fut
        except asyncio.CancelledError:
            # Like awaiting a Task: the awaiting coroutine's cancellation cancels the work.
            if propagate_cancel:
                self.cancel()
            raise

    def _block_until_settled(self) -> None:
        with self._lock:
            if self._state is not _PENDING:
                return
            self._check_has_producer()
            if self._done_event is None:
                self._done_event = threading.Event()
            event = self._done_event
        refuse_blocking_on_portal()
        event.wait()


__all__ = ["ThunkReading"]
