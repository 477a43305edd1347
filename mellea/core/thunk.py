"""`ModelOutputThunk`: the lazy, streamable result of one generation.

A thunk is returned before its generation finishes. The generation (a *producer*: an
asyncio task on mellea's I/O loop, or the embedded engine's thread) feeds text into it with
`_feed` and ends it with `_resolve` or `_fail`. Readers, on any event loop or thread,
observe it with `avalue()`, `astream()`, `async for`, or (blocking) `str()`.

Thread-safety: the producer may live on another thread than the reader, so the few state
transitions happen under a per-thunk lock and wake-ups of readers go through their own
loop (`call_soon_threadsafe`) unless they are on the producer's thread.

The reader side (`astream`, `async for`, `watch`, the waits) is the base class
`ThunkReading` (`_thunk_reading`); the fields and the producer side are here.
"""

from __future__ import annotations

import asyncio
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Protocol, cast

from .._runtime.waiters import Waiter, wake
from ._blocks import CBlock, Component, S
from ._thunk_reading import _CANCELLED, _DONE, _FAILED, _PENDING, ThunkReading
from .errors import GenerationCancelled, MelleaError
from .generation import (
    GenerateLog,
    GenerationMetadata,
    ModelToolCall,
    RawProviderResponse,
    settled_log,
)

if TYPE_CHECKING:
    from typing import Self

    from .sampling import SamplingResult


class GenerationHandle(Protocol):
    """The running generation behind a thunk, as the thunk needs to see it."""

    def cancel(self) -> None:
        """Ask the generation to stop (thread-safe, non-blocking)."""

    async def wait_stopped(self) -> None:
        """Return once the generation has really stopped (awaitable from any loop)."""


class ModelOutputThunk(CBlock, ThunkReading, Generic[S]):
    """The output of a model call; may still be generating.

    - `is_computed()` — True once the whole value is known; `.value` is None until then.
    - `await avalue()` — wait for the value (raises the generation's error, if any).
      Cancelling the awaiting coroutine cancels the generation, as awaiting an
      `asyncio.Task` does; wrap it in `asyncio.shield` to let the generation go on.
    - `await astream()` — the text produced since the previous call; the chunks of one
      thunk concatenate to exactly `.value`. On a thunk that is already computed (and not
      yet read) it returns the whole value. Once everything was read it returns "".
    - `async for delta in mot` — the same deltas; `async with mot:` cancels the
      generation if the block is left before it finished.
    - One reader at a time: a second task reading the stream while the first is alive
      gets `ConcurrentReadError`.
    - `str(mot)` waits for the value (blocking the calling thread) and returns it.
    """

    sampling_result: SamplingResult | None = None
    """Set when a sampling strategy produced this thunk: every attempt and its validation."""

    # Defaults every thunk starts with live on the class: an instance stores only what its
    # generation changes, so a pending thunk is small and quick to make.
    parsed_repr: S | None = None
    """The component's parsed form of the value (e.g. a validated pydantic model)."""
    tool_calls: dict[str, ModelToolCall] | None = None
    """The tool calls the model asked for, by name."""
    thinking: str | None = None
    """The model's reasoning trace, when the engine returns it separately."""
    _generate_log: GenerateLog | None = None
    _settled_at: float | None = None  # time.time() when a backend's generation settled
    _error: MelleaError | None = None
    _read_idx = 0
    _reader: asyncio.Task[Any] | None = None
    _stream_waiter: Waiter | None = None
    _done_waiters: list[Waiter] | None = None
    _done_event: threading.Event | None = None
    _handle: GenerationHandle | None = None
    # What produced it (for last_prompt(), repair loops and debugging).
    _action: Component[Any] | CBlock | None = None
    _prompt: Any = None
    _model_options: dict[str, Any] | None = None
    _started_at: float | None = None  # perf_counter() when the request went out
    _watchers: list[Waiter] | None = None
    """`watch()` iterators waiting for text (created on first use: pending thunks stay small)."""
    # Set only while plugins observe this generation (`mellea.core.hooks.generation`):
    _held: list[Waiter] | None = None  # readers to wake once the post-generation hooks ran
    _chunk_times: list[float] | None = None  # perf_counter() of each chunk fed

    def __init__(
        self,
        value: str | None = None,
        meta: dict[str, Any] | None = None,
        parsed_repr: S | None = None,
        tool_calls: dict[str, ModelToolCall] | None = None,
    ) -> None:
        CBlock.__init__(self, value, meta)
        if parsed_repr is not None:
            self.parsed_repr = parsed_repr
        if tool_calls is not None:
            self.tool_calls = tool_calls
        self.generation = GenerationMetadata()
        self.raw = RawProviderResponse()
        """The provider's own response, when the backend keeps it."""
        self._state = _PENDING if value is None else _DONE
        # A list while text arrives; a tuple once settled (a tuple of str is not tracked by
        # the garbage collector: a long history of thunks costs it less).
        self._parts: list[str] | tuple[str, ...] = [value] if value else []
        self._lock = threading.Lock()

    def _parse_view(self, text: str) -> ModelOutputThunk[Any]:
        """A computed thunk of `text` for a component's `parse()` before this one settles:
        the same tool calls and generation records, no generation of its own."""
        view: ModelOutputThunk[Any] = ModelOutputThunk.__new__(ModelOutputThunk)
        view._underlying_value = text
        view._meta = {}
        view.cache = False
        view.tool_calls = self.tool_calls
        view.generation = self.generation
        view.raw = self.raw
        view._state = _DONE
        view._parts = (text,) if text else ()
        view._lock = self._lock  # never used while this one's producer holds it
        return view

    # ----- reading ---------------------------------------------------------------

    def is_computed(self) -> bool:
        """True once the full value is available."""
        return self._state is _DONE

    @property
    def value(self) -> str | None:
        """The full text once computed, else None."""
        return self._underlying_value if self._state is _DONE else None

    @value.setter
    def value(self, v: str) -> None:
        with self._lock:
            self._underlying_value = v
            self._parts = (v,) if v else ()
            self._read_idx = 0
            self._state = _DONE
            self._error = None

    @property
    def partial_value(self) -> str:
        """Everything generated so far (the whole value once computed)."""
        with self._lock:
            return "".join(self._parts)

    @property
    def error(self) -> MelleaError | None:
        """The error the generation ended with, if it failed or was cancelled."""
        return self._error

    def is_cancelled(self) -> bool:
        """True if the generation was cancelled before it finished."""
        return self._state is _CANCELLED

    @property
    def cancelled(self) -> bool:
        """True if the generation was cancelled before it finished (`is_cancelled()`)."""
        return self._state is _CANCELLED

    @property
    def generate_log(self) -> GenerateLog | None:
        """How this thunk was generated (prompt as sent, backend, options, output, action).

        Made on first use once the generation settled (dated when it settled), from what
        the generation recorded; the backend may add its own details. The same object
        every time, so marks such as `is_final_result` stick. None for a thunk no backend
        produced, and while it is still generating.
        """
        log = self._generate_log
        if log is None and self._settled_at is not None:
            made = settled_log(self)  # (outside the lock: it reads partial_value)
            with self._lock:
                if self._generate_log is None:
                    self._generate_log = made
                log = self._generate_log
        return log

    async def avalue(self) -> str:
        """Wait for the generation and return the full text."""
        if self._state is _PENDING:
            await self._wait_settled()
        return self._settled_value()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __str__(self) -> str:
        if self._state is _PENDING:
            self._block_until_settled()
        return self._settled_value()

    def __repr__(self) -> str:
        if self._state is _DONE:
            return f"ModelOutputThunk({self._underlying_value!r})"
        return f"ModelOutputThunk(<{self._state.value}>, partial={self.partial_value!r})"

    # ----- cancelling -------------------------------------------------------------

    def cancel(self) -> bool:
        """Stop the generation; the text produced so far stays in `partial_value`.

        Returns False if the thunk had already finished.
        """
        if self._state is not _PENDING:
            return False
        return self._cancel_with(GenerationCancelled("the generation was cancelled"))

    def _cancel_with(self, error: GenerationCancelled) -> bool:
        handle = self._handle
        settled = self._fail(error, cancelled=True)
        if handle is not None:
            handle.cancel()
        return settled

    async def acancel(self) -> None:
        """Stop the generation and wait until it has really stopped (request aborted)."""
        self.cancel()
        if self._handle is not None:
            await self._handle.wait_stopped()

    async def cancel_generation(self, error: Exception | None = None) -> None:
        """Stop the generation and wait until it has stopped; `error` is the reason.

        Like `acancel()`; the thunk's `error` is a `GenerationCancelled` whose
        `__cause__` is `error` (for example the streaming requirement that failed), and
        `partial_value` keeps the text produced so far. A no-op on a settled thunk.
        """
        if self._state is not _PENDING:
            return
        cancelled = GenerationCancelled(
            "the generation was cancelled" + (f": {error}" if error is not None else "")
        )
        cancelled.__cause__ = error
        self._cancel_with(cancelled)
        if self._handle is not None:
            await self._handle.wait_stopped()

    async def aclose(self) -> None:
        """Cancel the generation if it is still running (what `async with mot:` does on exit).

        Safe after the thunk finished and safe to call twice: use it after abandoning an
        `async for delta in mot` loop without `async with`.
        """
        if self._state is _PENDING:
            await self.acancel()

    # ----- producer side (backends, strategies) -----------------------------------

    def _attach(self, handle: GenerationHandle) -> None:
        self._handle = handle

    def _feed(self, delta: str) -> None:
        """Append generated text. Thread-safe; ignored once the thunk has settled."""
        if not delta:
            return
        with self._lock:
            if self._state is not _PENDING:
                return
            if not self._parts and self._started_at is not None:
                self.generation.ttfb_ms = (time.perf_counter() - self._started_at) * 1000
            if self._chunk_times is not None:
                self._chunk_times.append(time.perf_counter())
            cast("list[str]", self._parts).append(delta)  # a list while pending
            waiter, self._stream_waiter = self._stream_waiter, None
            watchers = self._watchers
            if watchers:
                self._watchers = None
        if waiter is not None:
            wake(waiter)
        if watchers:
            for watcher in watchers:
                wake(watcher)

    def _resolve(self, parsed_repr: Any = None) -> bool:
        """Mark the generation complete: the value is the text fed so far."""
        with self._lock:
            if self._state is not _PENDING:
                return False
            parts = self._parts = tuple(self._parts)  # settled: no more appends
            self._underlying_value = "".join(parts)
            if parsed_repr is not None:
                self.parsed_repr = parsed_repr
            self._state = _DONE
            waiters = self._take_waiters()
        self._record_log()
        self._wake_all(waiters)
        return True

    def _fail(self, error: MelleaError, *, cancelled: bool = False) -> bool:
        """Mark the generation failed; the error carries the partial output."""
        with self._lock:
            if self._state is not _PENDING:
                return False
            parts = self._parts = tuple(self._parts)  # settled: no more appends
            if parts or not error.partial_output:  # keep a producer's own, if richer
                error.partial_output = "".join(parts)
            self._error = error
            self._state = _CANCELLED if cancelled else _FAILED
            waiters = self._take_waiters()
        self._record_log()
        self._wake_all(waiters)
        return True

    # ----- internals ---------------------------------------------------------------

    def _record_log(self) -> None:
        if self._action is not None or self._prompt is not None:  # a backend's generation
            # The log itself is made when asked for (most never are): a settled thunk
            # kept in a history then holds no log object and no reference cycle.
            self._settled_at = time.time()

    def _take_waiters(self) -> list[Waiter]:
        waiters = self._done_waiters or []
        self._done_waiters = None
        if self._watchers:
            waiters += self._watchers
            self._watchers = None
        if self._stream_waiter is not None:
            waiters.append(self._stream_waiter)
            self._stream_waiter = None
        return waiters

    def _hold(self) -> None:
        """Keep readers waiting after the thunk settles, until `_release()` (the hooks of
        its generation see the settled thunk before anyone else is woken)."""
        self._held = []

    def _release(self) -> None:
        """Wake the readers `_hold()` kept waiting."""
        with self._lock:
            held, self._held = self._held, None
        if held:
            self._wake_all(held)
        elif held is not None and self._done_event is not None:
            self._done_event.set()

    def _revoke(self, error: MelleaError) -> None:
        """Fail a computed thunk whose readers are still held (a hook refused the output);
        the refused text stays as `partial_output`."""
        with self._lock:
            if self._state is not _DONE or self._held is None:
                return
            error.partial_output = self._underlying_value or ""
            self._error = error
            self._state = _FAILED

    def _wake_all(self, waiters: list[Waiter]) -> None:
        if self._held is not None:
            with self._lock:
                if self._held is not None:
                    self._held.extend(waiters)
                    return
        for waiter in waiters:
            wake(waiter)
        if self._done_event is not None:
            self._done_event.set()

    def _settled_value(self) -> str:
        if self._state is _DONE:
            return self._underlying_value or ""
        raise self._raised_error()

    def _raised_error(self) -> MelleaError:
        assert self._error is not None
        return self._error


__all__ = ["GenerationHandle", "GenerationMetadata", "ModelOutputThunk", "ModelToolCall"]
