"""`BudgetForcingSamplingStrategy`: a thinking budget, an answer budget, and requirements.

Each attempt runs `think_budget_forcing` (see `sampling_algos.budget_forcing_alg`):
think with at most `think_max_tokens`, then — if that budget ran out first — answer with
at most `answer_max_tokens`. Attempts are validated and retried like
`RejectionSamplingStrategy`, up to `loop_budget`. Engines without a thinking mode get an
`InvalidOptionError` (before any request), not a silent plain generation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...core.requirement import Requirement
from ...core.sampling import SamplingResult
from .base import RejectionSamplingStrategy, new_run
from .run import SamplingRun
from .sampling_algos.budget_forcing_alg import budget_forced, exposes_reasoning

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ...core.backend import Backend
    from ...core.base import CBlock, Component
    from ...core.context import Context


class BudgetForcingSamplingStrategy(RejectionSamplingStrategy):
    """Rejection sampling whose attempts think within a token budget."""

    def __init__(
        self,
        *,
        think_max_tokens: int | None = 4096,
        answer_max_tokens: int | None = None,
        start_think_token: str | None = "<think>",
        end_think_token: str | None = "</think>",
        begin_response_token: str | None = "",
        end_response_token: str = "",
        think_more_suffix: str | None = "",
        answer_suffix: str | None = "",
        loop_budget: int = 1,
        requirements: Sequence[Requirement | str] | None = None,
        token_budget: int | None = None,
    ) -> None:
        super().__init__(
            loop_budget=loop_budget, requirements=requirements, token_budget=token_budget
        )
        for name, value in (
            ("think_max_tokens", think_max_tokens),
            ("answer_max_tokens", answer_max_tokens),
        ):
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be an int >= 1 or None, got {value!r}")
        self.think_max_tokens = think_max_tokens
        self.answer_max_tokens = answer_max_tokens
        self.start_think_token = start_think_token
        self.end_think_token = end_think_token
        self.begin_response_token = begin_response_token
        self.end_response_token = end_response_token
        self.think_more_suffix = think_more_suffix
        self.answer_suffix = answer_suffix

    def is_trivial(self, requirements: Sequence[Requirement], format: object) -> bool:
        return False  # even without requirements, the budgets need this strategy

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
        run = new_run(self, run, backend, format, model_options, tool_calls)
        if not exposes_reasoning(backend):
            await budget_forced(backend, action, ctx=context, **self._knobs(run))  # raises
        reqs = self.all_requirements(requirements)
        for i in range(self.loop_budget):
            if i > 0 and not run.can_request():
                break
            answer, thinking = await budget_forced(backend, action, ctx=context, **self._knobs(run))
            if thinking is not None:
                run.auxiliary.append(thinking)
            attempt = run.add_attempt(action, answer, context.add(action).add(answer))
            await run.validate(attempt, reqs, validation_ctx)
            if attempt.passed:
                return run.result(attempt, success=True)
        return run.result(len(run.validated) - 1, success=False)

    def _knobs(self, run: SamplingRun) -> dict[str, Any]:
        return {
            "format": run.format, "tool_calls": run.tool_calls,
            "think_max_tokens": self.think_max_tokens, "answer_max_tokens": self.answer_max_tokens,
            "start_think_token": self.start_think_token, "end_think_token": self.end_think_token,
            "begin_response_token": self.begin_response_token,
            "think_more_suffix": self.think_more_suffix, "answer_suffix": self.answer_suffix,
            "model_options": run.request_options(),
        }  # fmt: skip


__all__ = ["BudgetForcingSamplingStrategy"]
