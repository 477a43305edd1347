"""Parallel strategies: start n samples at once, stop as soon as the answer is known.

- `BestOfNSamplingStrategy(n=4)` — returns the first sample that passes every
  requirement (`wait_for_all=True`: the best-scoring passing sample once all are in).
  Without requirements it returns the fastest sample (a latency hedge).
- `MajorityVotingStrategy(number_of_samples=5)` — the most common answer (by `key`, by
  default the whitespace- and case-normalised text) among samples that pass the
  requirements; it stops once one answer holds a strict majority of all samples.

Samples that are no longer needed are cancelled at once — their HTTP requests are aborted
(the server sees the client disconnect) and the embedded engine stops decoding them — and
the loop waits for that before returning. The `SamplingResult` lists the samples that
finished validation, in the order they finished; cancelled ones are only in the thunk's
`attempts`. With `ModelOption.SEED` set, sample i uses seed + i, so they differ.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Collection, Hashable, Sequence
from typing import TYPE_CHECKING, Any

from ...core.base import CBlock, Component
from ...core.requirement import Requirement
from ...core.sampling import SamplingResult
from ..requirements.requirement import reqify
from .base import SamplingStrategy, _check_budget, new_run
from .run import Attempt, SamplingRun

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ...core.backend import Backend
    from ...core.context import Context

# Decides from the validated attempts (completion order) and how many are still running.
Decider = Callable[[list[Attempt], int], Attempt | None]


class ParallelSamplingStrategy(SamplingStrategy):
    """Shared machinery: n concurrent samples, validated as each finishes."""

    def __init__(
        self,
        n: int,
        *,
        requirements: Sequence[Requirement | str] | None = None,
        token_budget: int | None = None,
    ) -> None:
        _check_budget(n, token_budget)
        self.n = n
        self.requirements = [reqify(r) for r in requirements] if requirements else None
        self.token_budget = token_budget

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
        winner = await self.race(run, action, context, reqs, validation_ctx, self._decide)
        return self.all_attempts_in(run, winner)

    def _decide(self, validated: list[Attempt], still_running: int) -> Attempt | None:
        """The pick, once it is known (None: keep waiting)."""
        raise NotImplementedError

    async def race(
        self,
        run: SamplingRun,
        action: Component[Any] | CBlock,
        context: Context,
        requirements: list[Requirement],
        validation_ctx: Context | None,
        decide: Decider,
    ) -> Attempt | None:
        """Start the samples; return `decide`'s pick as soon as it makes one, else None."""
        attempts: list[Attempt] = []
        for i in range(self.n):
            if i > 0 and not run.can_request():
                break
            attempts.append(await run.generate(action, context, seed_offset=i))
        tasks = {
            asyncio.ensure_future(run.validate(a, requirements, validation_ctx)) for a in attempts
        }
        pending = set(tasks)
        errors: list[BaseException] = []
        winner: Attempt | None = None
        try:
            while pending and winner is None:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                errors.extend(e for t in done if not t.cancelled() and (e := t.exception()))
                winner = decide(run.validated, len(pending))
        finally:
            await _stop(pending, attempts, winner)
        if not run.validated and errors:
            raise errors[0]  # every sample failed: surface why (e.g. the server is down)
        return winner

    def all_attempts_in(self, run: SamplingRun, winner: Attempt | None) -> SamplingResult:
        if winner is not None:
            return run.result(winner, success=winner.passed)
        if not run.validated:
            return run.partial_result()
        best = max(run.validated, key=lambda a: a.score)  # max() keeps the earliest of ties
        return run.result(best, success=False)


async def _stop(
    pending: Collection[asyncio.Future[Any]], attempts: list[Attempt], keep: Attempt | None
) -> None:
    """Cancel the samples still running and wait until their requests are really gone."""
    for task in pending:
        task.cancel()
    losers = [a.mot for a in attempts if a is not keep and not a.mot.is_computed()]
    for mot in losers:
        mot.cancel()
    await asyncio.gather(*pending, *(m.acancel() for m in losers), return_exceptions=True)


class BestOfNSamplingStrategy(ParallelSamplingStrategy):
    """n samples at once; the first to pass wins and the rest are cancelled."""

    def __init__(
        self,
        n: int = 4,
        *,
        wait_for_all: bool = False,
        requirements: Sequence[Requirement | str] | None = None,
        token_budget: int | None = None,
    ) -> None:
        super().__init__(n, requirements=requirements, token_budget=token_budget)
        self.wait_for_all = wait_for_all

    def _decide(self, validated: list[Attempt], still_running: int) -> Attempt | None:
        passing = [a for a in validated if a.passed]
        if passing and (not self.wait_for_all or still_running == 0):
            return max(passing, key=lambda a: a.score) if self.wait_for_all else passing[0]
        return None


BestofNSamplingStrategy = BestOfNSamplingStrategy  # the spelling Mellea uses


def normalized_text(text: str) -> str:
    """Default voting key: the text with whitespace collapsed, case-folded."""
    return " ".join(text.split()).casefold()


class MajorityVotingStrategy(ParallelSamplingStrategy):
    """n samples at once; the most common answer (by `key`) among passing samples wins."""

    def __init__(
        self,
        number_of_samples: int = 5,
        *,
        key: Callable[[str], Hashable] | None = None,
        requirements: Sequence[Requirement | str] | None = None,
        token_budget: int | None = None,
    ) -> None:
        super().__init__(number_of_samples, requirements=requirements, token_budget=token_budget)
        self.key = key or normalized_text

    def _votes(self, validated: list[Attempt]) -> tuple[Counter[Hashable], list[Attempt]]:
        voters = [a for a in validated if a.passed] or validated
        return Counter(self.key(a.mot.value or "") for a in voters), voters

    def _decide(self, validated: list[Attempt], still_running: int) -> Attempt | None:
        votes, voters = self._votes(validated)
        if not votes:
            return None
        answer, count = votes.most_common(1)[0]
        # Stop early only with a strict majority of every sample started: nothing the
        # unfinished ones could say would change the outcome.
        started = len(validated) + still_running
        if count * 2 > started or still_running == 0:
            return next(a for a in voters if self.key(a.mot.value or "") == answer)
        return None


__all__ = [
    "BestOfNSamplingStrategy",
    "BestofNSamplingStrategy",
    "MajorityVotingStrategy",
    "ParallelSamplingStrategy",
    "normalized_text",
]
