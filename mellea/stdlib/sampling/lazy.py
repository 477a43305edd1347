"""Running a strategy lazily: `await m.ainstruct(..., requirements=[...])` returns at once.

The whole sample -> validate -> repair loop runs as one task on mellea's I/O loop,
attached to an *outer* thunk (`SampledThunk`) that the call returns uncomputed:

- It resolves to the selected attempt's text, `parsed_repr`, `tool_calls` — the first
  passing attempt, or (none passing) the strategy's `select_from_failure` pick, with a
  warning logged. `mot.sampling_result` (also `mot.generation.extra["sampling"]`) is the
  `SamplingResult`: `success`, every attempt, its validation.
- **Streaming**: the outer thunk streams only *validated* text — nothing while attempts
  are being checked, then the selected attempt's whole text as soon as the loop
  decides, so its chunks still concatenate to exactly `.value` and a reader never sees
  text that is later rejected. UIs that want live text read the attempts themselves:
  `mot.attempts` (every attempt thunk started so far) or `async for attempt in
  mot.aiter_attempts()` (each one as it starts; stream it with `async for chunk in
  attempt`), and `await mot.avalidated(attempt)` for its validation as soon as it is
  done (the `m serve` playground shows attempts this way).
- **Streaming validation**: requirements that override `stream_validate` are checked
  while each attempt streams; the first `"fail"` cancels that attempt at once (its
  request aborted, its text kept on the attempt thunk) and the loop goes on with the
  next attempt. The outer thunk still streams only the validated result.
- `generation.usage` sums every attempt and judge request of the loop (abandoned
  attempts included).
- `ModelOption.TIMEOUT` is one deadline for the whole loop (each request gets what is
  left); past it the outer thunk fails with `DeadlineExceededError`, whose
  `partial_output` is the latest attempt's text, and `sampling_result` keeps the
  attempts validated so far. Cancelling the outer thunk cancels every running attempt
  and judge.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..._runtime.waiters import Waiter as _Waiter
from ..._runtime.waiters import wake as _wake
from ...backends.model_options import ModelOption
from ...core import hooks
from ...core.base import CBlock, Component
from ...core.errors import (
    DeadlineExceededError,
    GenerationCancelled,
    InvalidOptionError,
    MelleaError,
)
from ...core.requirement import Requirement
from ...core.sampling import SamplingResult
from ...core.thunk import ModelOutputThunk
from ...helpers.portal import get_portal
from .base import RejectionSamplingStrategy, SamplingStrategy
from .run import Attempt, SamplingRun

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ...core.backend import Backend
    from ...core.context import Context

logger = logging.getLogger("mellea")


class SampledThunk(ModelOutputThunk[Any]):
    """The thunk of a call run by a sampling strategy (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts: list[ModelOutputThunk[Any]] = []
        """Every attempt started so far, in start order (live; grows while it runs)."""
        self._attempt_waiters: list[_Waiter] = []
        self._validated: dict[int, Attempt] = {}  # id(attempt thunk) -> its validated Attempt

    def _add_attempt(self, attempt: ModelOutputThunk[Any]) -> None:
        with self._lock:
            self.attempts.append(attempt)
        self._wake_watchers()

    def _add_validated(self, attempt: Attempt) -> None:
        with self._lock:
            self._validated[id(attempt.mot)] = attempt
        self._wake_watchers()

    async def avalidated(self, attempt: ModelOutputThunk[Any]) -> Attempt | None:
        """The validated `Attempt` (its action, validations, context) of one of
        `attempts`, as soon as its validation finished; None if the loop ended without
        validating it (e.g. a best-of-n sample cancelled once another one passed)."""
        while True:
            with self._lock:
                done = self._validated.get(id(attempt))
                if done is not None or self.is_computed() or self.error is not None:
                    return done
                loop = asyncio.get_running_loop()
                fut: asyncio.Future[None] = loop.create_future()
                self._attempt_waiters.append((loop, fut, threading.get_ident()))
            await fut

    async def aiter_attempts(self) -> AsyncIterator[ModelOutputThunk[Any]]:
        """Each attempt thunk as it starts, until the loop has finished."""
        seen = 0
        while True:
            fut: asyncio.Future[None] | None = None
            with self._lock:
                batch = self.attempts[seen:]
                if not batch:
                    if self.is_computed() or self.error is not None:
                        return
                    loop = asyncio.get_running_loop()
                    fut = loop.create_future()
                    self._attempt_waiters.append((loop, fut, threading.get_ident()))
            for attempt in batch:
                seen += 1
                yield attempt
            if fut is not None:
                await fut

    def _wake_watchers(self) -> None:
        """Wake `aiter_attempts` and `avalidated` readers: an attempt, a validation, the end."""
        with self._lock:
            waiters, self._attempt_waiters = self._attempt_waiters, []
        for waiter in waiters:
            _wake(waiter)

    def _resolve(self, parsed_repr: Any = None) -> bool:
        done = super()._resolve(parsed_repr)
        self._wake_watchers()
        return done

    def _fail(self, error: MelleaError, *, cancelled: bool = False) -> bool:
        if not error.partial_output and self.attempts and not self.is_computed():
            # The outer thunk holds only validated text; the running attempt's is what exists.
            # (Set before failing: readers wake up inside `_fail`.)
            error.partial_output = self.attempts[-1].partial_value
        failed = super()._fail(error, cancelled=cancelled)
        self._wake_watchers()
        return failed


def sampling_strategy(
    requirements: Sequence[Requirement | str] | None,
    strategy: SamplingStrategy | None,
    *,
    default: bool,
    format: type[BaseModel] | None,
    return_results: bool,
) -> SamplingStrategy | None:
    """The strategy that must run a call, or None when one plain generation is all it takes.

    `default`: no `strategy=` was given (RejectionSamplingStrategy(loop_budget=2)).
    `strategy=None` still validates given requirements, once: they are never ignored.
    """
    if default:
        if not requirements and format is None and not return_results:
            return None  # what the default strategy would decide: nothing to check
        strategy = RejectionSamplingStrategy(loop_budget=2)
    if strategy is None:
        if requirements or return_results:
            return RejectionSamplingStrategy(loop_budget=1)
        return None
    if not isinstance(strategy, SamplingStrategy):
        raise TypeError(f"strategy must be a SamplingStrategy, got {type(strategy).__name__}")
    reqs = strategy.all_requirements(requirements)
    for r in reqs:  # fail now, before any request, rather than inside the loop
        if (
            r.validation_fn is None
            and not r.description
            and type(r).validate is Requirement.validate
        ):
            raise InvalidOptionError(f"{r!r} has neither a description nor a validation_fn")
    if not return_results and strategy.is_trivial(reqs, format):
        return None
    return strategy


def start_sampling(
    strategy: SamplingStrategy,
    action: Component[Any] | CBlock,
    context: Context,
    backend: Backend,
    requirements: Sequence[Requirement | str] | None,
    *,
    format: type[BaseModel] | None = None,
    model_options: Mapping[str, Any] | None = None,
    tool_calls: bool = False,
) -> SampledThunk:
    """Start the loop on the I/O portal; returns its (uncomputed) outer thunk at once."""
    from ..streaming._checks import checks_while_streaming  # loaded on first use, not import

    options = dict(model_options or {})
    outer = SampledThunk()
    outer._action = action
    outer._model_options = options
    outer.generation.model = backend.model_id
    outer._started_at = time.perf_counter()  # its ttfb_ms: when validated text was released
    run = SamplingRun(
        backend, format=format, model_options=options, tool_calls=tool_calls,
        token_budget=strategy.token_budget,
        timeout={**backend.model_options, **options}.get(ModelOption.TIMEOUT),
        on_attempt=outer._add_attempt, on_validated=outer._add_validated,
    )  # fmt: skip
    reqs = list(requirements or [])
    run.stream_checks = any(checks_while_streaming(r) for r in strategy.all_requirements(reqs))
    outer._attach(get_portal().spawn(_drive(outer, strategy, run, action, context, reqs)))
    return outer


async def _drive(
    outer: SampledThunk,
    strategy: SamplingStrategy,
    run: SamplingRun,
    action: Component[Any] | CBlock,
    context: Context,
    requirements: list[Requirement | str],
) -> None:
    if not hooks.active:
        return await _loop(outer, strategy, run, action, context, requirements)
    try:  # the sampling-loop hook points (mellea.core.hooks.sampling)
        await hooks.sampling.around(_loop, outer, strategy, run, action, context, requirements)
    except MelleaError as exc:  # blocked, or a bad loop_budget, before the loop started
        _give_up(outer, run, exc)


async def _loop(
    outer: SampledThunk,
    strategy: SamplingStrategy,
    run: SamplingRun,
    action: Component[Any] | CBlock,
    context: Context,
    requirements: list[Requirement | str],
) -> None:
    try:
        try:
            async with _deadline(run.timeout):
                result = await strategy.sample(
                    action, context, run.backend, requirements, format=run.format,
                    model_options=run.model_options, tool_calls=run.tool_calls, run=run,
                )  # fmt: skip
        finally:
            run.cancel_unfinished()
    except asyncio.CancelledError:
        _give_up(outer, run, GenerationCancelled("the sampling loop was cancelled"), True)
        raise
    except MelleaError as exc:
        _give_up(outer, run, exc)
    except Exception as exc:  # a custom strategy's bug must still settle the thunk, typed
        logger.debug("mellea: the sampling strategy failed", exc_info=True)
        error = MelleaError(f"{type(strategy).__name__} failed: {exc!r}")
        error.__cause__ = exc
        _give_up(outer, run, error)
    else:
        _publish(outer, result, run)


def _give_up(
    outer: SampledThunk, run: SamplingRun, error: MelleaError, cancelled: bool = False
) -> None:
    outer.sampling_result = run.partial_result()
    outer.generation.usage = run.usage()
    outer.generation.extra["sampling"] = outer.sampling_result
    outer._fail(error, cancelled=cancelled)


def _publish(outer: SampledThunk, result: SamplingResult, run: SamplingRun) -> None:
    if not result.sample_generations:
        _give_up(outer, run, MelleaError(f"the sampling loop produced no sample: {result!r}"))
        return
    chosen = result.result
    outer.sampling_result = result
    outer.tool_calls = chosen.tool_calls
    outer._prompt = chosen._prompt
    gen, picked = outer.generation, chosen.generation
    gen.model, gen.provider = picked.model or gen.model, picked.provider
    gen.finish_reasons, gen.response_id = picked.finish_reasons, picked.response_id
    gen.usage = result.usage or run.usage()
    gen.extra.update(picked.extra)
    gen.extra["sampling"] = result
    if not result.success:
        logger.warning(
            "mellea: no attempt passed every requirement (%d attempts%s); returning attempt %d",
            len(result.sample_generations),
            ", token budget spent" if result.budget_exhausted else "",
            result.result_index % len(result.sample_generations) + 1,
        )
    # An attempt cut mid-stream by a quick check has no value, only the text it had.
    outer._feed(chosen.value if chosen.value is not None else chosen.partial_value)
    outer._resolve(chosen.parsed_repr)


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
        raise DeadlineExceededError(
            f"the sampling loop did not finish within {seconds} s"
        ) from None


async def asample(
    strategy: SamplingStrategy,
    action: Component[Any] | CBlock,
    context: Context,
    backend: Backend,
    *,
    requirements: Sequence[Requirement | str] | None,
    return_sampling_results: bool,
    format: type[BaseModel] | None,
    model_options: Mapping[str, Any] | None,
    tool_calls: bool,
    await_result: bool,
) -> tuple[ModelOutputThunk[Any] | SamplingResult, Context]:
    """`aact` under a strategy: the outer thunk at once, or the awaited `SamplingResult`."""
    outer = start_sampling(
        strategy, action, context, backend, requirements, format=format,
        model_options=model_options, tool_calls=tool_calls,
    )  # fmt: skip
    new_ctx = context.add(action).add(outer)
    if return_sampling_results or await_result:
        await outer.avalue()
    if return_sampling_results:
        assert outer.sampling_result is not None
        return outer.sampling_result, new_ctx
    return outer, new_ctx


__all__ = ["SampledThunk", "asample", "sampling_strategy", "start_sampling"]
