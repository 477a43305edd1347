"""SOFAI (slow and fast AI): a fast solver repairs in a loop; a slow one takes over.

```python
sofai = SOFAISamplingStrategy(s1_solver_backend=small, s2_solver_backend=large,
                              s2_solver_mode="fresh_start", loop_budget=3)
m.instruct("...", requirements=[...], strategy=sofai)
```
S1 (the fast backend) gets up to `loop_budget` attempts, each failure fed back as a new
user turn (`feedback_strategy`: `"simple"` lists the failed requirements, `"first_error"`
gives only the first failure's reason, `"all_errors"` every reason). If none passes,
S2 (the slow backend) gets one attempt, starting from `s2_solver_mode`:
`"fresh_start"` (the original request only), `"continue_chat"` (S1's whole conversation
and the last feedback) or `"best_attempt"` (S1's best-scoring attempt and its feedback).
LLM-judged requirements are asked of `judge_backend` (default: the session's backend).
The result lists every attempt, S1's then S2's; usage sums all of them and the judges.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from ...core.message import Message
from ...core.requirement import Requirement
from ...core.sampling import SamplingResult, Validations
from ..context import ChatContext, SimpleContext
from .base import BaseSamplingStrategy, failure_lines, new_run
from .run import Attempt, SamplingRun

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ...core.backend import Backend
    from ...core.base import CBlock, Component
    from ...core.context import Context
    from ...core.thunk import ModelOutputThunk

S2Mode = Literal["fresh_start", "continue_chat", "best_attempt"]
Feedback = Literal["simple", "first_error", "all_errors"]


def feedback_message(validations: Validations, style: Feedback) -> str:
    """What the solver is told after a failed attempt."""
    failed = [(r, v) for r, v in validations if not v]
    if style == "first_error" and failed:
        requirement, result = failed[0]
        reason = (result.reason or requirement.description or "").strip()
        return f"Your answer does not meet a requirement: {reason}\nPlease fix it."
    if style == "all_errors":
        reasons = [(v.reason or r.description or "").strip() for r, v in failed]
        return (
            "Your answer has these errors:\n"
            + "\n".join(f"* {x}" for x in reasons)
            + "\nPlease fix them."
        )
    return (
        "The following requirements have not been met:\n" + failure_lines(validations)
        + "\nPlease try again to fulfill the requirements."
    )  # fmt: skip


class SOFAISamplingStrategy(BaseSamplingStrategy):
    """Fast solver first, slow solver on failure (see the module docstring)."""

    def __init__(
        self,
        s1_solver_backend: Backend,
        s2_solver_backend: Backend,
        s2_solver_mode: S2Mode = "fresh_start",
        *,
        loop_budget: int = 3,
        judge_backend: Backend | None = None,
        feedback_strategy: Feedback = "simple",
        requirements: Sequence[Requirement | str] | None = None,
        token_budget: int | None = None,
    ) -> None:
        super().__init__(
            loop_budget=loop_budget, requirements=requirements, token_budget=token_budget
        )
        if s2_solver_mode not in ("fresh_start", "continue_chat", "best_attempt"):
            raise ValueError(f"unknown s2_solver_mode {s2_solver_mode!r}")
        if feedback_strategy not in ("simple", "first_error", "all_errors"):
            raise ValueError(f"unknown feedback_strategy {feedback_strategy!r}")
        self.s1_solver_backend = s1_solver_backend
        self.s2_solver_backend = s2_solver_backend
        self.s2_solver_mode = s2_solver_mode
        self.judge_backend = judge_backend
        self.feedback_strategy = feedback_strategy

    @staticmethod
    def repair(
        old_ctx: Context,
        new_ctx: Context,
        past_actions: list[Component[Any] | CBlock],
        past_results: list[ModelOutputThunk[Any]],
        past_val: list[Validations],
    ) -> tuple[Component[Any] | CBlock, Context]:
        """S1's repair turn: the failures as a user message after its attempt."""
        return Message("user", feedback_message(past_val[-1], "simple")), new_ctx

    @staticmethod
    def select_from_failure(
        sampled_actions: list[Component[Any] | CBlock],
        sampled_results: list[ModelOutputThunk[Any]],
        sampled_val: list[Validations],
    ) -> int:
        """S2's attempt (the last) when nothing passed."""
        return len(sampled_results) - 1

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
        reqs = self.all_requirements(requirements)
        judge = self.judge_backend or backend
        start_ctx: Context = ChatContext() if isinstance(context, SimpleContext) else context
        next_action, next_ctx = action, start_ctx
        s1: list[Attempt] = []
        for i in range(self.loop_budget):
            if i > 0 and not run.can_request():
                return run.result(len(run.validated) - 1, success=False)
            attempt = await run.generate(next_action, next_ctx, backend=self.s1_solver_backend)
            await run.validate(attempt, reqs, validation_ctx, judge=judge)
            if attempt.passed:
                return run.result(attempt, success=True)
            s1.append(attempt)
            next_action = Message(
                "user", feedback_message(attempt.validations or [], self.feedback_strategy)
            )
            next_ctx = attempt.ctx
        if not run.can_request():
            return run.result(len(run.validated) - 1, success=False)
        s2_action, s2_ctx = self._escalation(action, start_ctx, s1, next_action, next_ctx)
        final = await run.generate(s2_action, s2_ctx, backend=self.s2_solver_backend)
        await run.validate(final, reqs, validation_ctx, judge=judge)
        return run.result(final, success=final.passed)

    def _escalation(
        self,
        action: Component[Any] | CBlock,
        start_ctx: Context,
        s1: list[Attempt],
        feedback: Component[Any] | CBlock,
        chat_ctx: Context,
    ) -> tuple[Component[Any] | CBlock, Context]:
        if self.s2_solver_mode == "continue_chat":
            return feedback, chat_ctx
        if self.s2_solver_mode == "best_attempt":
            best = max(s1, key=lambda a: a.score)  # max() keeps the earliest of ties
            note = feedback_message(best.validations or [], self.feedback_strategy)
            return Message("user", note), best.ctx
        return action, start_ctx


__all__ = ["SOFAISamplingStrategy", "feedback_message"]
