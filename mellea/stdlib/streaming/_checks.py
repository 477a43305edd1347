"""Quick checks over one attempt's stream: the single implementation of early exit.

`AttemptChecks(...).run(mot)` follows the attempt's text as it arrives (`mot.watch()`,
so a UI may read the same attempt), cuts it into chunks and calls every requirement's
`stream_validate` on each chunk, concurrently. The first `"fail"` cancels the
generation at once — the HTTP request is aborted, the embedded engine frees the
sequence before its next token — and the attempt keeps the text it had
(`partial_value`). After a natural end it flushes the chunker and each requirement
(`stream_flush`).

What a requirement receives as a chunk:
- text chunks cut by its own `chunking` (a `Requirement(chunking=...)`) or else the
  stream's (`stream(chunking=...)`); with no chunking at all, each delta as it arrives;
- with `format=Model` and no chunking of its own: the *partial instance* of `Model`
  (see `_partial_model`), once per delta that changed it — so "`age` < 150" fails on
  the chunk where `age` completes. JSON that cannot be the beginning of a valid
  document fails the attempt there too.

Each requirement is copied per attempt (`copy.copy`), so a requirement that counts
things across chunks starts every attempt from its own initial state; the full
`validate()` of that attempt runs on the same copy.

Used by `Streamer` (`stream()`) and by the sampling loop (`SamplingRun.validate`).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from ...core.chunking import Chunker, ChunkingStrategy, resolve_chunking_strategy
from ...core.requirement import (
    PartialValidationResult,
    PartialValidationSummary,
    Requirement,
    as_partial_results,
)
from ._events import ChunkEvent, QuickCheckEvent, StreamEvent, StreamingDoneEvent
from ._partial_json import PartialJSONError

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ...core.backend import Backend
    from ...core.context import Context
    from ...core.thunk import ModelOutputThunk

__all__ = ["AttemptChecks", "QuickFailure", "checks_while_streaming"]

logger = logging.getLogger("mellea")

QuickFailure = tuple[Requirement, PartialValidationResult]
"""A requirement (the caller's object, not the per-attempt copy) and its failing result."""
Emit = Callable[[StreamEvent], Awaitable[None]]
Deliver = Callable[[Any], Awaitable[None]]


def checks_while_streaming(requirement: Requirement) -> bool:
    """True if the requirement overrides `stream_validate` or `stream_flush`."""
    cls = type(requirement)
    return (
        cls.stream_validate is not Requirement.stream_validate
        or cls.stream_flush is not Requirement.stream_flush
    )


class _Lane:
    """Requirements that see the same chunks (one chunking, or the partial object)."""

    def __init__(self, chunking: ChunkingStrategy | None, format: type[BaseModel] | None) -> None:
        self.chunker = Chunker(chunking) if chunking is not None else None
        self.objects = None
        if chunking is None and format is not None:
            from ._partial_model import PartialModelParser

            self.objects = PartialModelParser(format)
        self.requirements: list[tuple[Requirement, Requirement]] = []  # (original, copy)
        self.index = 0

    def feed(self, delta: str) -> list[Any]:
        if self.chunker is not None:
            return self.chunker.feed(delta)
        if self.objects is not None:
            changed = self.objects.feed(delta)
            return [self.objects.value] if changed and self.objects.value is not None else []
        return [delta]

    def flush(self) -> list[Any]:
        return self.chunker.flush() if self.chunker is not None else []


class AttemptChecks:
    """The quick checks of one attempt (see the module docstring).

    `deliver(chunk)` receives each chunk of the *stream's* chunking once its checks
    passed (the consumer's chunks); `emit(event)` receives the events of the attempt.
    """

    def __init__(
        self,
        requirements: Sequence[Requirement],
        *,
        backend: Backend,
        ctx: Context,
        chunking: str | ChunkingStrategy | None = None,
        format: type[BaseModel] | None = None,
        attempt: int = 1,
        emit: Emit | None = None,
        deliver: Deliver | None = None,
    ) -> None:
        self.backend = backend
        self.ctx = ctx
        self.attempt = attempt
        self._emit = emit
        self._deliver = deliver
        self.copies: dict[int, Requirement] = {}  # id(original) -> this attempt's copy
        self.failures: list[QuickFailure] = []
        self.chunks_delivered = 0
        stream_chunking = resolve_chunking_strategy(chunking)
        self._main = _Lane(stream_chunking, format)
        self._lanes = [self._main]
        for original in requirements:
            clone = copy.copy(original)
            self.copies[id(original)] = clone
            own = getattr(original, "chunking", None)
            lane = self._main
            if own is not None:
                lane = _Lane(resolve_chunking_strategy(own), None)
                self._lanes.insert(0, lane)  # checked before the consumer's chunks
            if checks_while_streaming(original):
                lane.requirements.append((original, clone))

    def copy_of(self, requirement: Requirement) -> Requirement:
        """This attempt's copy of `requirement` (the one its `validate()` must run on)."""
        return self.copies.get(id(requirement), requirement)

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    async def run(self, mot: ModelOutputThunk[Any]) -> list[QuickFailure]:
        """Check `mot`'s stream until it ends or a check fails; the failures (or [])."""
        try:
            async with contextlib.aclosing(mot.watch()) as deltas:
                async for delta in deltas:
                    for lane in self._lanes:
                        if not await self._feed(lane, delta):
                            await _stop(mot, _failure_error(self.failures))
                            return self.failures
        except PartialJSONError as exc:
            await self._fail_json(mot, exc)
            return self.failures
        if mot.error is not None:
            return []  # the generation failed on its own: the caller reports that
        for lane in self._lanes:
            if not await self._check_all(lane, lane.flush()):
                return self.failures
        text = mot.value or ""
        await self._flush_requirements()
        if not self.failures and self._emit is not None:
            await self._emit(StreamingDoneEvent(self.attempt, text))
        return self.failures

    async def _feed(self, lane: _Lane, delta: str) -> bool:
        if not lane.requirements and (lane is not self._main or self._deliver is None):
            return True
        return await self._check_all(lane, lane.feed(delta))

    async def _check_all(self, lane: _Lane, chunks: list[Any]) -> bool:
        for chunk in chunks:
            if not await self._check(lane, chunk):
                return False
        return True

    async def _check(self, lane: _Lane, chunk: Any) -> bool:
        index = lane.index
        lane.index += 1
        if lane.requirements:
            results = await asyncio.gather(
                *(self._quick(clone, chunk) for _, clone in lane.requirements)
            )
            summaries = [PartialValidationSummary.from_results(r) for r in results]
            failed = [
                (original, s.failure)
                for (original, _), s in zip(lane.requirements, summaries, strict=True)
                if s.failure is not None
            ]
            if self._emit is not None:
                await self._emit(QuickCheckEvent(index, self.attempt, not failed, summaries))
            if failed:
                self.failures.extend(failed)
                return False
        if lane is self._main:
            self.chunks_delivered += 1
            if self._deliver is not None:
                await self._deliver(chunk)
            if self._emit is not None:
                text, partial = (chunk, None) if isinstance(chunk, str) else ("", chunk)
                await self._emit(ChunkEvent(text, index, self.attempt, partial))
        return True

    async def _quick(self, requirement: Requirement, chunk: Any) -> list[PartialValidationResult]:
        try:
            value = await requirement.stream_validate(chunk, backend=self.backend, ctx=self.ctx)
            return as_partial_results(value)
        except Exception as exc:  # a check that raises fails its requirement, as validate()
            logger.debug("mellea: %r.stream_validate raised", requirement, exc_info=True)
            return [PartialValidationResult("fail", reason=f"stream_validate raised {exc!r}")]

    async def _flush_requirements(self) -> None:
        pairs = [pair for lane in self._lanes for pair in lane.requirements]
        if not pairs:
            return

        async def flush(req: Requirement) -> list[PartialValidationResult]:
            try:
                return as_partial_results(
                    await req.stream_flush(backend=self.backend, ctx=self.ctx)
                )
            except Exception as exc:
                return [PartialValidationResult("fail", reason=f"stream_flush raised {exc!r}")]

        results = await asyncio.gather(*(flush(clone) for _, clone in pairs))
        for (original, _), items in zip(pairs, results, strict=True):
            failure = PartialValidationSummary.from_results(items).failure
            if failure is not None:
                self.failures.append((original, failure))
        if self.failures and self._emit is not None:
            summaries = [PartialValidationSummary.from_results(r) for r in results]
            await self._emit(QuickCheckEvent(self._main.index, self.attempt, False, summaries))

    async def _fail_json(self, mot: ModelOutputThunk[Any], exc: PartialJSONError) -> None:
        from ...core.requirement import Requirement as _Req

        parse = _Req("The output must be valid JSON.", check_only=True)
        result = PartialValidationResult("fail", reason=f"invalid JSON: {exc}")
        self.failures.append((parse, result))
        if self._emit is not None:
            summary = PartialValidationSummary.from_results([result])
            await self._emit(QuickCheckEvent(self._main.index, self.attempt, False, [summary]))
        await _stop(mot, exc)


async def _stop(mot: ModelOutputThunk[Any], reason: Exception) -> None:
    """Cancel the generation and wait until it stopped; count the tokens it spent.

    An engine that knows them (the embedded one) reports them on cancellation; an HTTP
    server sends usage only at the end of a stream, so an abandoned request is counted
    as one token per content event received (`generation.extra["usage_estimated"]`).
    """
    await mot.cancel_generation(reason)
    if mot.generation.usage is None:
        events = len(mot._parts)
        mot.generation.usage = {
            "prompt_tokens": 0, "completion_tokens": events, "total_tokens": events,
        }  # fmt: skip
        mot.generation.extra["usage_estimated"] = True


def _failure_error(failures: list[QuickFailure]) -> Exception:
    requirement, result = failures[0]
    what = requirement.description or type(requirement).__name__
    return ValueError(f"requirement failed while streaming: {what}: {result.reason or 'fail'}")
