"""`stream()`, `Streamer` and `EventStreamer`: validated streaming for readers.

```python
async with await stream(action, m.backend, m.ctx, requirements=[...],
                        chunking="sentence") as streamer:
    async for chunk in streamer:     # each chunk passed every requirement's quick check
        ...
streamer.completed_normally, streamer.failed_early, streamer.streaming_failures
```

The generation starts in `stream()`; a background task on the caller's loop follows
it, runs the quick checks (`_checks.AttemptChecks`: the first `"fail"` cancels the
request at once), hands the chunks that passed to the reader, and at the natural end
runs the full `validate()` of every requirement that did not fail. Every step is a
typed event (`_events`), sent to `as_events=True` readers and to plugins on the
`streaming_event` hook.

`EventStreamer` (the `as_events=True` view of a run) is in `_event_streamer`.

Beyond the reference: `loop_budget=N` retries a failed attempt as a new attempt (a
`RetryEvent` first; an `Instruction` is repaired with the failures, as
`RepairTemplateStrategy` does); `format=Model` streams partial instances of `Model`
(and requirements check them); `ModelOption.TIMEOUT` in `model_options` bounds the
whole run; `usage` sums every attempt, including abandoned ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ...core import hooks
from ...core.base import CBlock, Component
from ...core.chunking import ChunkingStrategy, resolve_chunking_strategy
from ...core.errors import DeadlineExceededError, MelleaError
from ...core.requirement import PartialValidationResult, Requirement, ValidationResult
from ...core.thunk import ModelOutputThunk
from ._checks import AttemptChecks, QuickFailure
from ._event_streamer import EventStreamer
from ._events import (
    CompletedEvent,
    ErrorEvent,
    FullValidationEvent,
    RetryEvent,
    StreamEvent,
)

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ...core.backend import Backend
    from ...core.context import Context

__all__ = ["EventStreamer", "Streamer", "stream"]

_END = object()


class Streamer:
    """Validated chunks of a generation (see the module docstring); use `async with`."""

    # Set by `stream()` right after construction (before the run's task first runs).
    _format: type[BaseModel] | None = None
    _loop_budget = 1
    _timeout: float | None = None
    _deadline_at: float | None = None
    _retry_from: tuple[Component[Any] | CBlock, Context, dict[str, Any]] | None = None

    def __init__(
        self,
        mot: ModelOutputThunk[Any],
        ctx: Context,
        chunking: ChunkingStrategy | None,
        requirements: list[Requirement],
        validation_backend: Backend,
        streaming_id: str,
        event_queue: asyncio.Queue[StreamEvent | None] | None = None,
    ) -> None:
        self._mot = mot
        self._ctx = ctx
        self._chunking = chunking
        self._requirements = list(requirements)
        self._backend = validation_backend
        self._streaming_id = streaming_id
        self._events = event_queue
        self._chunks: asyncio.Queue[Any] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._backend_for_attempts: Backend = validation_backend
        self.attempts: list[ModelOutputThunk[Any]] = [mot]
        """Every attempt's thunk, in order (earlier ones failed; their text stays on them)."""
        self._completed_normally = False
        self._failed_early = False
        self._streaming_failures: list[QuickFailure] = []
        self._final_validations: list[ValidationResult] = []
        self._failure_reason: str | None = None
        self._success = False
        self._error: BaseException | None = None
        self._finished = False
        with contextlib.suppress(RuntimeError):  # no running loop: start on first use
            self._start()

    # ----- terminal state (read after the loop) ------------------------------------

    @property
    def mot(self) -> ModelOutputThunk[Any]:
        """The current (after the run: the last) attempt's thunk."""
        return self._mot

    @property
    def streaming_id(self) -> str:
        return self._streaming_id

    @property
    def completed_normally(self) -> bool:
        """The last attempt's stream ended naturally and every requirement passed."""
        return self._completed_normally

    @property
    def failed_early(self) -> bool:
        """The last attempt was cancelled because a quick check failed."""
        return self._failed_early

    @property
    def streaming_failures(self) -> list[tuple[Requirement, PartialValidationResult]]:
        """The last attempt's failing quick checks: (requirement, its `"fail"` result)."""
        return list(self._streaming_failures)

    @property
    def final_validations(self) -> list[ValidationResult]:
        """The last attempt's full `validate()` results (empty after an early exit)."""
        return list(self._final_validations)

    @property
    def failure_reason(self) -> str | None:
        """Why the run did not succeed (None if it did)."""
        return self._failure_reason

    @property
    def full_text(self) -> str:
        """The last attempt's text: all of it, or as far as it got before it stopped."""
        return self._mot.partial_value

    @property
    def usage(self) -> dict[str, int]:
        """Tokens of every attempt (abandoned ones included) and every judge request."""
        total = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        judges = [v.thunk for v in self._final_validations if v.thunk is not None]
        for mot in self.attempts + judges:
            for key, value in (mot.generation.usage or {}).items():
                if key in total and isinstance(value, int):
                    total[key] += value
        return total

    # ----- reading --------------------------------------------------------------

    async def __aenter__(self) -> Streamer:
        self._start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[Any]:
        self._start()
        return self._chunk_iterator()

    async def _chunk_iterator(self) -> AsyncIterator[Any]:
        while True:
            chunk = await self._chunks.get()
            if chunk is _END:
                self._chunks.put_nowait(_END)  # a second loop ends at once too
                if self._error is not None:
                    raise self._error
                return
            yield chunk

    async def aclose(self) -> None:
        """Stop the run (cancelling the generation) if it is still going; idempotent."""
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._mot.aclose()

    # ----- the run ---------------------------------------------------------------------

    def _start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drive())

    async def _emit(self, event: StreamEvent) -> None:
        if self._events is not None:
            self._events.put_nowait(event)
        if hooks.on("streaming_event"):
            payload = hooks.streaming.StreamingEventPayload(
                **hooks.streaming.base_fields(self._streaming_id, "streaming_event"),
                streaming_id=self._streaming_id, event=event, requirements=self._requirements,
            )  # fmt: skip
            await hooks.dispatch("streaming_event", payload, backend=self._backend)

    async def _drive(self) -> None:
        if hooks.active:  # this task's own context: what the stream starts nests under it
            hooks.enter_scope("streaming", self._streaming_id)
        await self._hook_start()
        try:
            async with _deadline(self._timeout):
                await self._attempts_loop()
        except asyncio.CancelledError:
            self._failure_reason = self._failure_reason or "the stream was closed early"
            await self._mot.acancel()
            raise
        except BaseException as exc:
            self._error = exc
            self._failure_reason = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, DeadlineExceededError) and not exc.partial_output:
                exc.partial_output = self._mot.partial_value
            await self._mot.acancel()
            await self._emit(ErrorEvent(type(exc).__name__, str(exc)))
        finally:
            self._finished = True
            self._chunks.put_nowait(_END)
            await self._finish()

    async def _attempts_loop(self) -> None:
        attempt = 1
        while True:
            reason = await self._one_attempt(attempt)
            if reason is None or attempt >= self._loop_budget or self._retry_from is None:
                self._failure_reason = reason
                return
            attempt += 1
            await self._emit(RetryEvent(attempt, reason))
            await self._next_attempt()

    async def _one_attempt(self, attempt: int) -> str | None:
        """Run one attempt's checks; None if it passed, else why it failed."""
        checks = AttemptChecks(
            self._requirements, backend=self._backend, ctx=self._ctx, chunking=self._chunking,
            format=self._format, attempt=attempt, emit=self._emit, deliver=self._deliver,
        )  # fmt: skip
        self._streaming_failures, self._final_validations = [], []
        self._completed_normally = self._failed_early = False
        failures = await checks.run(self._mot)
        if failures:
            self._failed_early = True
            self._streaming_failures = failures
            return "; ".join(_describe(req, r.reason) for req, r in failures)
        if self._mot.error is not None:
            raise self._mot.error
        await self._mot.avalue()
        results = await asyncio.gather(*(self._full(checks, r) for r in self._requirements))
        parse_error = self._mot.generation.extra.get("parse_error")
        if parse_error is not None:
            results.append(ValidationResult(False, reason=str(parse_error)))
        self._final_validations = list(results)
        passed = all(results)
        await self._emit(FullValidationEvent(attempt, passed, list(results)))
        self._completed_normally = passed
        if passed:
            return None
        failed = [
            _describe(r, v.reason)
            for r, v in zip(self._requirements, results, strict=False)
            if not v
        ]
        if parse_error is not None:
            failed.insert(0, str(parse_error))
        return "; ".join(failed)

    async def _full(self, checks: AttemptChecks, requirement: Requirement) -> ValidationResult:
        try:
            return await checks.copy_of(requirement).validate(
                self._backend, self._ctx, format=self._format
            )
        except Exception as exc:  # a validator that raises fails its requirement
            return ValidationResult(False, reason=f"validate raised {exc!r}", error=exc)

    async def _deliver(self, chunk: Any) -> None:
        self._chunks.put_nowait(chunk)

    async def _next_attempt(self) -> None:
        assert self._retry_from is not None
        action, ctx, options = self._retry_from
        from ..components.instruction import Instruction

        if isinstance(action, Instruction):
            lines = [f"* {_describe(r, p.reason)}" for r, p in self._streaming_failures] or [
                f"* {v.reason}" for v in self._final_validations if not v and v.reason
            ]
            action = action.copy_and_repair(
                "The following requirements failed before:\n" + "\n".join(lines)
            )
        if self._timeout is not None and self._deadline_at is not None:
            from ...backends.model_options import ModelOption

            options = {
                **options,
                ModelOption.TIMEOUT: max(0.0, self._deadline_at - time.monotonic()),
            }
        self._mot, self._ctx = await self._backend_for_attempts.generate_from_context(
            action, ctx, format=self._format, model_options=options
        )
        self.attempts.append(self._mot)

    async def _hook_start(self) -> None:
        if hooks.on("streaming_start"):
            payload = hooks.streaming.StreamingStartPayload(
                **hooks.streaming.base_fields(self._streaming_id, "streaming_start"),
                streaming_id=self._streaming_id, has_requirements=bool(self._requirements),
                requirement_count=len(self._requirements),
                chunking_strategy=type(self._chunking).__name__ if self._chunking else "",
            )  # fmt: skip
            await hooks.dispatch("streaming_start", payload, backend=self._backend)

    async def _finish(self) -> None:
        self._success = self._completed_normally and self._error is None
        await self._emit(CompletedEvent(self._success, self.full_text, len(self.attempts)))
        if self._events is not None:
            self._events.put_nowait(None)
        if hooks.on("streaming_end"):
            payload = hooks.streaming.StreamingEndPayload(
                **hooks.streaming.base_fields(self._streaming_id, "streaming_end"),
                streaming_id=self._streaming_id, success=self._success,
                failure_reason=self._failure_reason,
                exception=self._error if isinstance(self._error, Exception) else None,
                model=self._mot.generation.model, provider=self._mot.generation.provider,
                full_text_length=len(self.full_text),
            )  # fmt: skip
            await hooks.dispatch("streaming_end", payload, backend=self._backend)


def _describe(requirement: Requirement, reason: str | None) -> str:
    what = requirement.description or type(requirement).__name__
    return f"{what}: {reason}" if reason and reason != what else what


@contextlib.asynccontextmanager
async def _deadline(seconds: float | None) -> AsyncIterator[None]:
    if seconds is None:
        yield
        return
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError as exc:
        if isinstance(exc, MelleaError):
            raise
        raise DeadlineExceededError(f"the stream did not finish within {seconds} s") from None


async def stream(
    action: Component[Any] | CBlock,
    backend: Backend,
    ctx: Context,
    *,
    chunking: str | ChunkingStrategy | None = None,
    requirements: Sequence[Requirement | str] | None = None,
    validation_backend: Backend | None = None,
    as_events: bool = False,
    format: type[BaseModel] | None = None,
    model_options: dict[str, Any] | None = None,
    loop_budget: int = 1,
) -> Streamer | EventStreamer:
    """Start generating `action` and return its validated stream (see the module docstring).

    `chunking`: "word", "sentence", "paragraph" or a `ChunkingStrategy` (None: each
    delta as it arrives, or with `format=` the partial object). `validation_backend`
    runs the requirements (default: `backend`). `as_events=True` returns an
    `EventStreamer` of the typed events instead of the chunks.
    """
    from ...backends.model_options import ModelOption
    from ..requirements.requirement import reqify

    if not isinstance(loop_budget, int) or loop_budget < 1:
        raise ValueError(f"loop_budget must be an int >= 1, got {loop_budget!r}")
    strategy = resolve_chunking_strategy(chunking)
    reqs = [reqify(r) for r in requirements or ()]
    options = dict(model_options or {})
    options.setdefault(ModelOption.STREAM, True)  # the checks need the text as it comes
    timeout = {**backend.model_options, **options}.get(ModelOption.TIMEOUT)
    streaming_id = uuid.uuid4().hex
    # The first request belongs to the run: started in its scope, it nests under it.
    with hooks.scope("streaming", streaming_id) if hooks.active else contextlib.nullcontext():
        mot, new_ctx = await backend.generate_from_context(
            action, ctx, format=format, model_options=options
        )
    events = EventStreamer() if as_events else None
    streamer = Streamer(
        mot, new_ctx, strategy, reqs, validation_backend or backend, streaming_id,
        events._queue if events is not None else None,
    )  # fmt: skip
    # Its task starts at the caller's next await: configure the run before that.
    streamer._format = format
    streamer._loop_budget = loop_budget
    streamer._timeout = timeout
    streamer._deadline_at = None if timeout is None else time.monotonic() + timeout
    streamer._retry_from = (action, ctx, options)
    streamer._backend_for_attempts = backend
    if events is not None:
        events._streamer = streamer
        return events
    return streamer
