"""`SamplingStrategy` (the protocol) and `SamplingResult` (what its loop produced).

The strategies themselves live in `mellea.stdlib.sampling`; these types are in `core` so
that thunks, sessions and strategies can all refer to them without importing the
strategies.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ._blocks import CBlock, Component
from .requirement import Requirement

if TYPE_CHECKING:
    from pydantic import BaseModel

    from .backend import Backend
    from .context import Context
    from .requirement import ValidationResult
    from .thunk import ModelOutputThunk

_T = TypeVar("_T")

SampleActionType = Component[Any] | CBlock
"""What a strategy samples: the action (a component or block)."""

Validations = list[tuple["Requirement", "ValidationResult"]]
"""One attempt's validation: `(requirement, result)` pairs, in requirement order."""


class SamplingStrategy(abc.ABC):
    """How a call turns requirements into accepted output (configuration only).

    `sample` generates, validates and maybe repairs until an attempt passes or the budget
    is spent. A strategy holds no per-call state, so one instance serves concurrent calls.
    """

    requirements: list[Requirement] | None = None
    """Requirements this strategy always checks, in addition to the call's."""
    token_budget: int | None = None
    """Stop before the next request once the loop has used this many tokens."""

    @abc.abstractmethod
    async def sample(
        self,
        action: SampleActionType,
        context: Context,
        backend: Backend,
        requirements: Sequence[Requirement | str] | None = None,
        *,
        validation_ctx: Context | None = None,
        format: type[BaseModel] | None = None,
        model_options: dict[str, Any] | None = None,
        tool_calls: bool = False,
        run: Any | None = None,
    ) -> SamplingResult:
        """Run the loop; `run` is the caller's per-call loop state (stdlib's `SamplingRun`)."""

    def is_trivial(self, requirements: Sequence[Requirement], format: object) -> bool:
        """True when a single plain generation is all this strategy would do."""
        return False

    def all_requirements(
        self, requirements: Sequence[Requirement | str] | None
    ) -> list[Requirement]:
        """The call's requirements (strings become judged ones), then the strategy's own."""
        merged = [Requirement(r) if isinstance(r, str) else r for r in requirements or []]
        for r in merged:
            if not isinstance(r, Requirement):
                raise TypeError(f"a requirement is a str or Requirement, not {type(r).__name__}")
        for r in self.requirements or []:
            if all(r is not other for other in merged):
                merged.append(r)
        return merged


class SamplingResult(CBlock):
    """The outcome of a sampling loop: every attempt, its validation, and the pick.

    - `success` — an attempt passed every requirement.
    - `result` — the selected attempt's thunk (the passing one, or the strategy's
      `select_from_failure` pick); `str(sampling_result)` is its text.
    - `sample_generations` / `sample_validations` / `sample_actions` /
      `sample_contexts` — per attempt, in the order the attempts were started.
    - `usage` — prompt/completion/total tokens summed over every request the loop made,
      attempts *and* LLM-as-a-judge validations.
    - `budget_exhausted` — the loop stopped early because its token budget was spent.
    """

    def __init__(
        self,
        result_index: int,
        success: bool,
        *,
        sample_generations: Sequence[ModelOutputThunk[Any]] | None = None,
        sample_validations: Sequence[Validations] | None = None,
        sample_actions: Sequence[Component[Any] | CBlock] | None = None,
        sample_contexts: Sequence[Context] | None = None,
        usage: dict[str, int] | None = None,
        budget_exhausted: bool = False,
    ) -> None:
        generations = list(sample_generations or [])
        if generations and not -len(generations) <= result_index < len(generations):
            raise IndexError(f"result_index {result_index} outside {len(generations)} samples")
        chosen = generations[result_index] if generations else None
        super().__init__(chosen.value if chosen is not None else None)
        self.result_index = result_index
        self.success = success
        self.sample_generations = generations
        self.sample_validations = list(sample_validations or [])
        self.sample_actions = list(sample_actions or [])
        self.sample_contexts = list(sample_contexts or [])
        self.usage: dict[str, int] = dict(usage or {})
        self.budget_exhausted = budget_exhausted

    @property
    def result(self) -> ModelOutputThunk[Any]:
        """The selected attempt."""
        if not self.sample_generations:
            raise LookupError("the sampling loop produced no sample")
        return self.sample_generations[self.result_index]

    @property
    def result_validations(self) -> Validations:
        """The selected attempt's `(requirement, result)` pairs."""
        return _pick(self.sample_validations, self.result_index) or []

    @property
    def result_action(self) -> Component[Any] | CBlock | None:
        """The action the selected attempt answered (a repaired copy after repairs)."""
        return _pick(self.sample_actions, self.result_index)

    @property
    def result_ctx(self) -> Context | None:
        """The context holding the selected attempt as its last output."""
        return _pick(self.sample_contexts, self.result_index)

    def __repr__(self) -> str:
        return (
            f"SamplingResult(success={self.success}, result_index={self.result_index}, "
            f"samples={len(self.sample_generations)}, usage={self.usage})"
        )


def _pick(items: list[_T], index: int) -> _T | None:
    if not items or not -len(items) <= index < len(items):
        return None
    return items[index]


__all__ = ["SampleActionType", "SamplingResult", "SamplingStrategy", "Validations"]
