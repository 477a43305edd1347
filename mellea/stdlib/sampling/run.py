"""`SamplingRun`: the per-call state of one sampling loop.

Strategies are configuration only (a strategy instance can serve any number of
concurrent calls); everything one call accumulates — the attempts, their validations,
tokens spent, the deadline — lives in the `SamplingRun` passed to `sample()`.

Every request the loop makes goes through the run, which is what lets it:
- sum usage over attempts *and* LLM-as-a-judge validations;
- stop before the next request once `token_budget` is spent;
- give each request only the time left of `ModelOption.TIMEOUT` (one deadline for the
  whole loop, not one per request);
- cancel whatever is still generating when the loop ends (best-of-n losers) or is
  abandoned (`cancel_unfinished`);
- check requirements *while* an attempt streams: a requirement that overrides
  `stream_validate` sees the attempt's text as it arrives (its `chunking`, else each
  delta; with `format=` the typed partial object), and a `"fail"` cancels the attempt
  at once — its request is aborted, its text stays on the attempt thunk, and the
  strategy repairs or retries as after any failed validation
  (`mellea.stdlib.streaming._checks`). Such runs request streamed generations.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...backends.model_options import ModelOption
from ...core import hooks
from ...core.base import CBlock, Component
from ...core.errors import DeadlineExceededError
from ...core.requirement import Requirement, ValidationResult
from ...core.sampling import SamplingResult, Validations
from ...core.thunk import ModelOutputThunk

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ...core.backend import Backend
    from ...core.context import Context

_USAGE_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens")


@dataclass
class Attempt:
    """One sample: the action it answered, its thunk, the context ending in it."""

    action: Component[Any] | CBlock
    mot: ModelOutputThunk[Any]
    ctx: Context
    validations: Validations | None = None
    scope: Any = None
    """Its hook scope (`mellea.core.hooks.CallScope`) while plugins are registered."""

    @property
    def passed(self) -> bool:
        return self.validations is not None and all(bool(v) for _, v in self.validations)

    @property
    def score(self) -> tuple[int, float]:
        """For picking the best failure: requirements passed, then mean score."""
        vals = [v for _, v in self.validations or []]
        scores = [v.score for v in vals if v.score is not None]
        mean = sum(scores) / len(scores) if scores else 0.0
        return sum(1 for v in vals if v), mean


class SamplingRun:
    """The state of one sampling loop (see the module docstring)."""

    def __init__(
        self,
        backend: Backend,
        *,
        format: type[BaseModel] | None = None,
        model_options: dict[str, Any] | None = None,
        tool_calls: bool = False,
        token_budget: int | None = None,
        timeout: float | None = None,
        on_attempt: Callable[[ModelOutputThunk[Any]], None] | None = None,
        on_validated: Callable[[Attempt], None] | None = None,
    ) -> None:
        self.backend = backend
        self.format = format
        self.model_options: dict[str, Any] = dict(model_options or {})
        self.tool_calls = tool_calls
        self.token_budget = token_budget
        self.timeout = timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.budget_exhausted = False
        self.started: list[Attempt] = []
        """Every attempt, in start order (including ones cancelled before validation)."""
        self.validated: list[Attempt] = []
        """Attempts whose validation finished, in the order it finished."""
        self.judges: list[ModelOutputThunk[Any]] = []
        self.auxiliary: list[ModelOutputThunk[Any]] = []
        """Requests a strategy makes besides attempts and judges (e.g. a thinking phase)."""
        self._on_attempt = on_attempt
        self._on_validated = on_validated
        self._parse_requirement: Requirement | None = None
        self.stream_checks = False
        """Some requirement checks while attempts stream: request streamed generations."""

    # ----- budget, deadline, options ------------------------------------------------

    def usage(self) -> dict[str, int]:
        """Tokens reported so far by every attempt and judge of this run."""
        total = dict.fromkeys(_USAGE_KEYS, 0)
        for mot in [a.mot for a in self.started] + self.judges + self.auxiliary:
            for key, value in (mot.generation.usage or {}).items():
                if key in total and isinstance(value, int):
                    total[key] += value
        return total

    def can_request(self) -> bool:
        """False (and `budget_exhausted` set) once the token budget is spent."""
        if self.token_budget is not None and self.usage()["total_tokens"] >= self.token_budget:
            self.budget_exhausted = True
            return False
        return True

    def request_options(self, seed_offset: int = 0) -> dict[str, Any]:
        """The options for the next request: what is left of the deadline, a distinct seed."""
        options = dict(self.model_options)
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise DeadlineExceededError(
                    f"the sampling loop did not finish within {self.timeout} s"
                )
            options[ModelOption.TIMEOUT] = left
        if self.stream_checks:
            options.setdefault(ModelOption.STREAM, True)
        if seed_offset:
            seed = options.get(ModelOption.SEED, self.backend.model_options.get(ModelOption.SEED))
            if isinstance(seed, int):
                options[ModelOption.SEED] = seed + seed_offset
        return options

    # ----- attempts -----------------------------------------------------------------------

    async def generate(
        self,
        action: Component[Any] | CBlock,
        ctx: Context,
        *,
        seed_offset: int = 0,
        backend: Backend | None = None,
    ) -> Attempt:
        """Start one attempt (returns at once; the generation runs in the background).

        `backend` overrides the run's (SOFAI's fast and slow solvers).
        """
        if hooks.active:  # an attempt is a hook scope: its requests and checks nest in it
            with hooks.sampling.attempt_scope(len(self.started) + 1) as scope:
                attempt = await self._generate(action, ctx, seed_offset, backend)
            attempt.scope = scope
            return attempt
        return await self._generate(action, ctx, seed_offset, backend)

    async def _generate(
        self,
        action: Component[Any] | CBlock,
        ctx: Context,
        seed_offset: int,
        backend: Backend | None,
    ) -> Attempt:
        mot, new_ctx = await (backend or self.backend).generate_from_context(
            action, ctx, format=self.format, model_options=self.request_options(seed_offset),
            tool_calls=self.tool_calls,
        )  # fmt: skip
        return self.add_attempt(action, mot, new_ctx)

    def add_attempt(
        self, action: Component[Any] | CBlock, mot: ModelOutputThunk[Any], ctx: Context
    ) -> Attempt:
        """Record an attempt a strategy generated itself (budget forcing's answer)."""
        attempt = Attempt(action, mot, ctx)
        self.started.append(attempt)
        if self._on_attempt is not None:
            self._on_attempt(mot)
        return attempt

    async def validate(
        self,
        attempt: Attempt,
        requirements: Sequence[Requirement],
        validation_ctx: Context | None = None,
        *,
        judge: Backend | None = None,
    ) -> Validations:
        """Wait for the attempt, then check every requirement on it (concurrently).

        A `format=` or a component parse failure is an implicit first requirement.
        `judge` asks another backend than the run's for LLM-judged requirements.
        Raises the attempt's own error if its generation failed.
        """
        ctx = attempt.ctx
        if validation_ctx is not None:
            ctx = validation_ctx.add(attempt.action).add(attempt.mot)
        # Imported here: the stream checks (and their JSON parser) load with their first use.
        from ..streaming._checks import AttemptChecks, checks_while_streaming

        checked = list(requirements)
        if any(checks_while_streaming(r) for r in requirements):
            checks = AttemptChecks(
                requirements, backend=judge or self.backend, ctx=ctx, format=self.format,
                attempt=len(self.started),
            )  # fmt: skip
            failures = await checks.run(attempt.mot)
            if failures:  # stopped early: the failing checks are this attempt's verdict
                attempt.validations = [
                    (r, ValidationResult(False, reason=f"failed while streaming: {p.reason}",
                                         context=ctx))
                    for r, p in failures
                ]  # fmt: skip
                self.validated.append(attempt)
                await self._fire_iteration(attempt)
                return attempt.validations
            checked = [checks.copy_of(r) for r in requirements]  # the copies that saw it
        await attempt.mot.avalue()
        copies = {id(r): c for r, c in zip(requirements, checked, strict=True)}

        def check(reqs: Sequence[Requirement], override: dict[str, Any] | None) -> Any:
            return asyncio.gather(
                *(self._check(copies.get(id(r), r), ctx, judge, override) for r in reqs)
            )

        if hooks.active:  # the validation hook points, in the attempt's scope
            with hooks.use_scope(attempt.scope):
                requirements, results = await hooks.validation.around(
                    requirements, attempt.mot, ctx, self.model_options, check, self.backend
                )
        else:
            results = await check(requirements, None)
        validations: Validations = list(zip(requirements, results, strict=True))
        parse = self._parse_check(attempt, ctx)
        if parse is not None:
            validations.insert(0, parse)
        attempt.validations = validations
        self.validated.append(attempt)
        if self._on_validated is not None:
            self._on_validated(attempt)
        await self._fire_iteration(attempt)
        return validations

    async def _fire_iteration(self, attempt: Attempt) -> None:
        if hooks.active and attempt.scope is not None:
            await hooks.sampling.iteration(
                attempt.scope, attempt.action, attempt.mot, attempt.validations or [], self.backend
            )

    async def _check(
        self,
        requirement: Requirement,
        ctx: Context,
        judge: Backend | None = None,
        override: dict[str, Any] | None = None,
    ) -> ValidationResult:
        asks_model = requirement.validation_fn is None
        if asks_model and not self.can_request():
            return ValidationResult(
                False, reason="not checked: the token budget is spent", context=ctx
            )
        options = self.request_options() if asks_model else dict(self.model_options)
        if override:  # a validation_pre_check hook changed the judges' options
            options.update(override)
        result = await requirement.validate(judge or self.backend, ctx, model_options=options)
        if result.thunk is not None:
            self.judges.append(result.thunk)
        return result

    def _parse_check(
        self, attempt: Attempt, ctx: Context
    ) -> tuple[Requirement, ValidationResult] | None:
        error = attempt.mot.generation.extra.get("parse_error")
        if self.format is None and error is None:
            return None
        if self._parse_requirement is None:
            what = f"valid JSON for {self.format.__name__}" if self.format else "parseable"
            self._parse_requirement = Requirement(f"The output must be {what}.", check_only=True)
        if error is None:
            return self._parse_requirement, ValidationResult(True, context=ctx)
        return self._parse_requirement, ValidationResult(False, reason=str(error), context=ctx)

    # ----- results and cleanup --------------------------------------------------------

    def result(self, chosen: Attempt | int, success: bool) -> SamplingResult:
        """A `SamplingResult` over the validated attempts, selecting `chosen`."""
        attempts = self.validated
        index = chosen if isinstance(chosen, int) else attempts.index(chosen)
        return SamplingResult(
            index, success,
            sample_generations=[a.mot for a in attempts],
            sample_validations=[a.validations or [] for a in attempts],
            sample_actions=[a.action for a in attempts],
            sample_contexts=[a.ctx for a in attempts],
            usage=self.usage(), budget_exhausted=self.budget_exhausted,
        )  # fmt: skip

    def partial_result(self) -> SamplingResult:
        """What the loop had validated when it was interrupted (`success=False`)."""
        return self.result(len(self.validated) - 1 if self.validated else 0, False)

    def cancel_unfinished(self, keep: Iterable[Attempt] = ()) -> list[ModelOutputThunk[Any]]:
        """Cancel every generation of this run still running (except `keep`'s)."""
        kept = {id(a.mot) for a in keep}
        cancelled = []
        for mot in [a.mot for a in self.started] + self.judges + self.auxiliary:
            if id(mot) not in kept and mot.cancel():
                cancelled.append(mot)
        return cancelled


__all__ = ["Attempt", "SamplingRun"]
