"""What a `serve()` returned, as the server reads it: the answer's text, and its attempts.

`Answer(result)` accepts a `ModelOutputThunk` (computed or still generating), a
`SamplingResult`, a chat `Message`, a `CBlock` or a `str`.

- `deltas()` — the answer's text as it streams (all of it at once for a computed thunk).
  A thunk run by a sampling strategy streams only validated text, so an OpenAI client
  never sees an attempt that is later rejected.
- `trace()` — the playground's view, as events (plain dicts with a `type`): each attempt
  of a sampling loop as it starts and streams (`attempt`, `attempt_delta`, `attempt_end`),
  each attempt's `validation` (requirement results, the repair it was given), the
  selected `answer`, and `done` with usage and timings. Attempts are read through the
  public `SampledThunk.aiter_attempts()` and `avalidated()`, so each attempt's validation
  shows as soon as it is done; for a loop that already finished (a sync `serve()`), the
  same events come from its `SamplingResult` at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from ..core.base import CBlock
from ..core.errors import MelleaError
from ..core.message import Message
from ..core.sampling import SamplingResult
from ..core.thunk import ModelOutputThunk
from ..stdlib.sampling import SampledThunk
from . import _wire

Event = dict[str, Any]


class Answer:
    """A `serve()` result, normalised to one thunk (see the module docstring)."""

    def __init__(self, result: Any, *, started: float | None = None) -> None:
        self.started = time.perf_counter() if started is None else started
        self.first_token_ms: float | None = None
        self._sampling: SamplingResult | None = None
        self._wire_tool_calls: list[dict[str, Any]] | None = None  # a Message's, as sent
        self._validations_shown: set[int] = set()  # attempts whose validation was sent live
        if isinstance(result, SamplingResult):
            self._sampling = result
            self.thunk: ModelOutputThunk[Any] = result.result
        elif isinstance(result, ModelOutputThunk):
            self.thunk = result
        elif isinstance(result, Message):
            self.thunk = ModelOutputThunk(result.content)
            self._wire_tool_calls = result.tool_calls
        elif isinstance(result, CBlock):
            self.thunk = ModelOutputThunk(result.value or "")
        elif isinstance(result, str):
            self.thunk = ModelOutputThunk(result)
        else:
            raise TypeError(
                "serve() must return a ModelOutputThunk, a SamplingResult, a Message or a "
                f"str; it returned {type(result).__name__}"
            )

    # ----- the answer, once computed -------------------------------------------------------

    @property
    def sampling(self) -> SamplingResult | None:
        return self._sampling or self.thunk.sampling_result

    @property
    def text(self) -> str:
        return self.thunk.value or ""

    def usage(self) -> dict[str, int] | None:
        usage = self._sampling.usage if self._sampling is not None else None
        return _wire.usage_wire(usage or self.thunk.generation.usage)

    def tool_calls(self) -> list[dict[str, Any]]:
        return _wire.tool_calls_wire(self.thunk.tool_calls)

    def finish_reason(self) -> str:
        return _wire.finish_reason(
            self.thunk.generation.finish_reasons, bool(self.thunk.tool_calls)
        )

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    def cancel(self) -> None:
        """Stop the generation (and every attempt of its sampling loop)."""
        self.thunk.cancel()

    # ----- streaming -----------------------------------------------------------------------

    async def wait(self) -> str:
        text = await self.thunk.avalue()
        self._first_token()
        return text

    async def deltas(self) -> AsyncIterator[str]:
        """The answer's text as it arrives; raises the generation's error."""
        if self.thunk.is_computed():
            self._first_token()
            if self.thunk.value:
                yield self.thunk.value
            return
        async for delta in self.thunk:
            self._first_token()
            yield delta

    def _first_token(self) -> None:
        if self.first_token_ms is None:
            self.first_token_ms = self.elapsed_ms()

    async def trace(self) -> AsyncIterator[Event]:
        """Attempts, validations, the answer and `done` (see the module docstring)."""
        started: list[ModelOutputThunk[Any]] = []
        if isinstance(self.thunk, SampledThunk) and not self.thunk.is_computed():
            async for event in self._live_attempts(self.thunk, started):
                yield event
        error: MelleaError | None = None
        try:
            await self.thunk.avalue()
        except MelleaError as exc:  # still show what was validated before it failed
            error = exc
        for event in self._attempts_from_result(started):
            yield event
        if error is not None:
            raise error
        async for delta in self.deltas():
            yield {"type": "answer_delta", "text": delta}
        yield self.done_event(started)

    async def _live_attempts(
        self, outer: SampledThunk, started: list[ModelOutputThunk[Any]]
    ) -> AsyncIterator[Event]:
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        streams: list[asyncio.Task[None]] = []
        shown = self._validations_shown

        async def stream(index: int, attempt: ModelOutputThunk[Any]) -> None:
            status, error = "done", None
            try:
                async for delta in attempt:
                    self._first_token()
                    queue.put_nowait({"type": "attempt_delta", "index": index, "text": delta})
            except MelleaError as exc:
                status = "cancelled" if attempt.is_cancelled() else "failed"
                error = str(exc)
            end = {"type": "attempt_end", "index": index, "status": status, "error": error}
            queue.put_nowait(end)
            checked = await outer.avalidated(attempt) if status == "done" else None
            if checked is not None and checked.validations is not None:
                shown.add(index)
                queue.put_nowait(_validation_event(index, checked.validations, checked.action))

        async def watch() -> None:
            try:
                async for attempt in outer.aiter_attempts():
                    index = len(started)
                    started.append(attempt)
                    queue.put_nowait({"type": "attempt", "index": index})
                    streams.append(asyncio.ensure_future(stream(index, attempt)))
                await asyncio.gather(*streams)
            finally:
                queue.put_nowait(None)

        watcher = asyncio.ensure_future(watch())
        try:
            while (event := await queue.get()) is not None:
                yield event
            await watcher
        finally:
            for task in [watcher, *streams]:
                task.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.gather(watcher, *streams, return_exceptions=True)

    def _attempts_from_result(self, started: list[ModelOutputThunk[Any]]) -> list[Event]:
        """Events for the loop's `SamplingResult`: attempts not seen live, every validation."""
        result = self.sampling
        if result is None:
            return []
        events: list[Event] = []
        for n, attempt in enumerate(result.sample_generations):
            index = _index_of(attempt, started)
            if index is None:  # finished before we looked (a sync serve()): replay it
                index = len(started)
                started.append(attempt)
                events.append({"type": "attempt", "index": index})
                events.append(
                    {"type": "attempt_delta", "index": index, "text": attempt.value or ""}
                )
                events.append(
                    {"type": "attempt_end", "index": index, "status": "done", "error": None}
                )
            if index in self._validations_shown:
                continue
            validations = result.sample_validations[n] if n < len(result.sample_validations) else []
            action = result.sample_actions[n] if n < len(result.sample_actions) else None
            events.append(_validation_event(index, validations, action))
        return events

    def done_event(self, started: list[ModelOutputThunk[Any]] | None = None) -> Event:
        result = self.sampling
        selected = None
        if result is not None and result.sample_generations:
            selected = _index_of(result.result, started or [])
        return {
            "type": "done",
            "answer": self.text,
            "tool_calls": self.tool_calls(),
            "finish_reason": self.finish_reason(),
            "usage": self.usage(),
            "selected": selected,
            "success": None if result is None else result.success,
            "attempts": len(started or []),
            "elapsed_ms": round(self.elapsed_ms(), 1),
            "first_token_ms": None
            if self.first_token_ms is None
            else round(self.first_token_ms, 1),
        }


def _index_of(thunk: ModelOutputThunk[Any], started: list[ModelOutputThunk[Any]]) -> int | None:
    for i, seen in enumerate(started):
        if seen is thunk:
            return i
    return None


def _validation_event(index: int, validations: list[Any], action: Any) -> Event:
    results = [
        {
            "requirement": requirement.description or repr(requirement),
            "passed": bool(result),
            "reason": result.reason,
            "score": result.score,
        }
        for requirement, result in validations
    ]
    repair = getattr(action, "repair_string", None)
    if repair is None and index > 0 and isinstance(action, Message):
        repair = action.content  # MultiTurnStrategy: the failures as a user turn
    return {
        "type": "validation",
        "index": index,
        "passed": all(r["passed"] for r in results),
        "results": results,
        "repair": repair,
    }


__all__ = ["Answer", "Event"]
