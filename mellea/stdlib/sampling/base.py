"""Sampling strategies: what to do when an output fails its requirements.

- `RejectionSamplingStrategy(loop_budget=2)` — instruct/act's default: sample, validate,
  and on failure sample the same action again, up to `loop_budget` attempts in all.
- `RepairTemplateStrategy` — on failure, retry with a copy of the instruction that lists
  the failed requirements and their reasons (`Instruction.copy_and_repair`).
- `MultiTurnStrategy` — on failure, add the failures as a new user turn after the
  model's attempt, so it revises its own answer (a chat history; on a `SimpleContext`
  the loop keeps its own short chat).
- `BaseSamplingStrategy` — subclass it with `repair(...)` and `select_from_failure(...)`
  for custom loops (the docs' signature, static methods).

If no attempt passes, `select_from_failure` picks the result: the built-ins pick the
*last* attempt (the most repaired one) and the call logs a warning. `loop_budget` counts
attempts. A strategy holds configuration only; per-call state is a `SamplingRun`.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...core import hooks
from ...core.base import CBlock, Component
from ...core.message import Message
from ...core.requirement import Requirement
from ...core.sampling import SamplingResult, SamplingStrategy, Validations
from ...core.thunk import ModelOutputThunk
from ..components.instruction import Instruction
from ..context import ChatContext, SimpleContext
from ..requirements.requirement import reqify
from .run import SamplingRun

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ...core.backend import Backend
    from ...core.context import Context


def new_run(
    strategy: SamplingStrategy,
    run: SamplingRun | None,
    backend: Backend,
    format: type[BaseModel] | None,
    model_options: dict[str, Any] | None,
    tool_calls: bool,
) -> SamplingRun:
    """`run`, or a fresh one when `strategy.sample()` is called directly."""
    if run is not None:
        return run
    from ...backends.model_options import ModelOption

    options = {**backend.model_options, **(model_options or {})}
    return SamplingRun(
        backend, format=format, model_options=model_options, tool_calls=tool_calls,
        token_budget=strategy.token_budget, timeout=options.get(ModelOption.TIMEOUT),
    )  # fmt: skip


def _check_budget(loop_budget: int, token_budget: int | None) -> None:
    if not isinstance(loop_budget, int) or loop_budget < 1:
        raise ValueError(f"loop_budget must be an int >= 1, got {loop_budget!r}")
    if token_budget is not None and (not isinstance(token_budget, int) or token_budget < 1):
        raise ValueError(f"token_budget must be an int >= 1 or None, got {token_budget!r}")


def failure_lines(validations: Validations) -> str:
    """The failed requirements of one attempt, with their reasons, as bullet lines."""
    lines = []
    for requirement, result in validations:
        if result:
            continue
        name = requirement.description or "(unnamed check)"
        reason = (result.reason or "").strip()
        lines.append(f"* {name}" + (f" — {reason}" if reason and reason != name else ""))
    return "\n".join(lines)


class BaseSamplingStrategy(SamplingStrategy):
    """A sequential loop: sample, validate, `repair` on failure, up to `loop_budget` times."""

    def __init__(
        self,
        *,
        loop_budget: int = 1,
        concurrency_budget: int = 1,
        requirements: Sequence[Requirement | str] | None = None,
        token_budget: int | None = None,
    ) -> None:
        _check_budget(loop_budget, token_budget)
        if not isinstance(concurrency_budget, int) or concurrency_budget < 1:
            raise ValueError(f"concurrency_budget must be an int >= 1, got {concurrency_budget!r}")
        self.loop_budget = loop_budget
        self.concurrency_budget = concurrency_budget
        """Kept for compatibility: attempts of a repair loop depend on each other, so they
        run one after another (the parallel strategies run samples concurrently)."""
        self.requirements = [reqify(r) for r in requirements] if requirements else None
        self.token_budget = token_budget

    @staticmethod
    @abc.abstractmethod
    def repair(
        old_ctx: Context,
        new_ctx: Context,
        past_actions: list[Component[Any] | CBlock],
        past_results: list[ModelOutputThunk[Any]],
        past_val: list[Validations],
    ) -> tuple[Component[Any] | CBlock, Context]:
        """The action and context of the next attempt, after the last one failed.

        `old_ctx` is the context the last attempt was generated from, `new_ctx` the one
        holding it (its action and output).
        """

    @staticmethod
    @abc.abstractmethod
    def select_from_failure(
        sampled_actions: list[Component[Any] | CBlock],
        sampled_results: list[ModelOutputThunk[Any]],
        sampled_val: list[Validations],
    ) -> int:
        """The index of the attempt to return when none passed."""

    def is_trivial(self, requirements: Sequence[Requirement], format: object) -> bool:
        return not requirements and format is None

    async def sample(
        self,
        action: Component[Any] | CBlock,
        context: Context,
        backend: Backend,
        requirements: Sequence[Requirement | str] | None = None,
        *,
        validation_ctx: Context | None = None,
        format: type[BaseModel] | None = None,
        model_options: dict[str, Any] | None = None,
        tool_calls: bool = False,
        show_progress: bool = True,
        run: SamplingRun | None = None,
    ) -> SamplingResult:
        """The loop; `show_progress` is accepted for compatibility (progress is logged)."""
        run = new_run(self, run, backend, format, model_options, tool_calls)
        reqs = self.all_requirements(requirements)
        next_action, next_ctx = action, context
        for i in range(self.loop_budget):
            if i > 0 and not run.can_request():
                break
            attempt = await run.generate(next_action, next_ctx)
            await run.validate(attempt, reqs, validation_ctx)
            if attempt.passed:
                return run.result(attempt, success=True)
            if i + 1 < self.loop_budget:
                past = run.validated
                next_action, next_ctx = self.repair(
                    next_ctx, attempt.ctx, [a.action for a in past], [a.mot for a in past],
                    [a.validations or [] for a in past],
                )  # fmt: skip
                if hooks.active:
                    await hooks.sampling.repair(self, attempt, next_action, next_ctx, run.backend)
        past = run.validated
        index = self.select_from_failure(
            [a.action for a in past], [a.mot for a in past], [a.validations or [] for a in past]
        )
        return run.result(index, success=False)


class RejectionSamplingStrategy(BaseSamplingStrategy):
    """Retry the same action from the same context until an attempt passes."""

    @staticmethod
    def repair(
        old_ctx: Context,
        new_ctx: Context,
        past_actions: list[Component[Any] | CBlock],
        past_results: list[ModelOutputThunk[Any]],
        past_val: list[Validations],
    ) -> tuple[Component[Any] | CBlock, Context]:
        return past_actions[-1], old_ctx

    @staticmethod
    def select_from_failure(
        sampled_actions: list[Component[Any] | CBlock],
        sampled_results: list[ModelOutputThunk[Any]],
        sampled_val: list[Validations],
    ) -> int:
        return len(sampled_results) - 1


class RepairTemplateStrategy(BaseSamplingStrategy):
    """Retry with the instruction plus the failed requirements and their reasons.

    Only an `Instruction` can carry the repair note; any other action is retried as is.
    """

    @staticmethod
    def repair(
        old_ctx: Context,
        new_ctx: Context,
        past_actions: list[Component[Any] | CBlock],
        past_results: list[ModelOutputThunk[Any]],
        past_val: list[Validations],
    ) -> tuple[Component[Any] | CBlock, Context]:
        action = past_actions[-1]
        if isinstance(action, Instruction):
            note = "The following requirements failed before:\n" + failure_lines(past_val[-1])
            return action.copy_and_repair(note), old_ctx
        return action, old_ctx

    select_from_failure = staticmethod(RejectionSamplingStrategy.select_from_failure)


class MultiTurnStrategy(BaseSamplingStrategy):
    """On failure, tell the model what failed in a new user turn after its attempt."""

    @staticmethod
    def repair(
        old_ctx: Context,
        new_ctx: Context,
        past_actions: list[Component[Any] | CBlock],
        past_results: list[ModelOutputThunk[Any]],
        past_val: list[Validations],
    ) -> tuple[Component[Any] | CBlock, Context]:
        note = (
            "The following requirements have not been met:\n"
            + failure_lines(past_val[-1])
            + "\nPlease try again to fulfill the requirements."
        )
        return Message("user", note), new_ctx

    select_from_failure = staticmethod(RejectionSamplingStrategy.select_from_failure)

    async def sample(
        self,
        action: Component[Any] | CBlock,
        context: Context,
        backend: Backend,
        requirements: Sequence[Requirement | str] | None = None,
        **kwargs: Any,
    ) -> SamplingResult:
        # A SimpleContext would hide the attempt from the repair turn. It sends no history,
        # so an empty chat context is the same first request — and keeps the repair turns.
        if isinstance(context, SimpleContext):
            context = ChatContext()
        return await super().sample(action, context, backend, requirements, **kwargs)


__all__ = [
    "BaseSamplingStrategy",
    "MultiTurnStrategy",
    "RejectionSamplingStrategy",
    "RepairTemplateStrategy",
    "SamplingStrategy",
    "failure_lines",
]
