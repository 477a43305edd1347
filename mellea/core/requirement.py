"""Requirements and their results: `Requirement`, `ValidationResult`, and the streaming
counterparts `PartialValidationResult` / `PartialValidationSummary`.

`Requirement.validate` checks a finished output (its validation function, else
LLM-as-a-judge, see `mellea.core._validation`). `stream_validate` / `stream_flush` check
a stream chunk by chunk; their defaults have no opinion (`"unknown"`), and requirements
that can tell early override them.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ._blocks import CBlock, Component
from .chunking import ChunkingStrategy, resolve_chunking_strategy

if TYPE_CHECKING:
    from pydantic import BaseModel

    from .backend import Backend
    from .context import Context
    from .thunk import ModelOutputThunk

PartialVerdict = Literal["pass", "fail", "unknown"]
_PARTIAL_VERDICTS = ("pass", "fail", "unknown")


@dataclass
class ValidationResult:
    """Outcome of checking one requirement: pass/fail, and optionally why and how well."""

    result: bool
    reason: str | None = None
    score: float | None = None
    thunk: ModelOutputThunk[Any] | None = None
    """The judge's generation, when the requirement was checked by asking the model."""
    context: Context | None = None
    """The context the requirement was checked against (its last output is the candidate)."""
    error: Exception | None = None
    """Why the check itself failed (the validator raised, the judge's answer was
    unreadable); such a result is a failure. None when the check ran normally."""

    def __bool__(self) -> bool:
        return self.result

    def as_bool(self) -> bool:
        return self.result


class PartialValidationResult:
    """A verdict on a stream so far: `"pass"`, `"fail"` (stop the stream) or `"unknown"`."""

    __slots__ = ("_context", "_reason", "_score", "_success", "_thunk")

    def __init__(
        self,
        success: PartialVerdict,
        *,
        reason: str | None = None,
        score: float | None = None,
        thunk: ModelOutputThunk[Any] | None = None,
        context: Context | None = None,
    ) -> None:
        if success not in _PARTIAL_VERDICTS:
            raise ValueError(f"success is 'pass', 'fail' or 'unknown', not {success!r}")
        self._success: PartialVerdict = success
        self._reason = reason
        self._score = score
        self._thunk = thunk
        self._context = context

    @property
    def success(self) -> PartialVerdict:
        return self._success

    @property
    def reason(self) -> str | None:
        return self._reason

    @property
    def score(self) -> float | None:
        return self._score

    @property
    def thunk(self) -> ModelOutputThunk[Any] | None:
        return self._thunk

    @property
    def context(self) -> Context | None:
        return self._context

    def as_bool(self) -> bool:
        """True only for `"pass"` (`"unknown"` is not a failure: check `success`)."""
        return self._success == "pass"

    def __bool__(self) -> bool:
        return self.as_bool()

    def __repr__(self) -> str:
        return f"PartialValidationResult({self._success!r}, reason={self._reason!r})"


@dataclass
class PartialValidationSummary:
    """The partial results one input produced, and their overall verdict.

    `success` is `"fail"` if any failed, `"pass"` if there are results and all passed,
    else `"unknown"`; `failure`/`reason` are the first failing result's.
    """

    results: list[PartialValidationResult]
    success: PartialVerdict
    failure: PartialValidationResult | None
    reason: str | None

    @classmethod
    def from_results(
        cls, results: Sequence[PartialValidationResult] | PartialValidationResult
    ) -> PartialValidationSummary:
        """Summarise the results (a single result, as docs-page overrides return, is fine)."""
        items = as_partial_results(results)
        failure = next((r for r in items if r.success == "fail"), None)
        success: PartialVerdict
        if failure is not None:
            success = "fail"
        elif items and all(r.success == "pass" for r in items):
            success = "pass"
        else:
            success = "unknown"
        return cls(items, success, failure, failure.reason if failure is not None else None)


def as_partial_results(
    value: Sequence[PartialValidationResult] | PartialValidationResult,
) -> list[PartialValidationResult]:
    """What a `stream_validate` returned, as a list (overrides may return one result)."""
    if isinstance(value, PartialValidationResult):
        return [value]
    items = list(value)
    for item in items:
        if not isinstance(item, PartialValidationResult):
            raise TypeError(f"stream_validate returned {item!r}, not a PartialValidationResult")
    return items


_VERDICTS = {
    "yes": True, "true": True, "pass": True, "passes": True, "passed": True, "correct": True,
    "no": False, "false": False, "fail": False, "fails": False, "failed": False,
    "incorrect": False,
}  # fmt: skip
_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.IGNORECASE | re.DOTALL)
_WORD = re.compile(r"[a-z]+")


def default_output_to_bool(x: CBlock | ModelOutputThunk[Any] | str) -> bool:
    """Read a judge's answer: the first yes/no-like word decides ("No, ... yes" is False).

    Reasoning in `<think>` blocks is ignored; an answer with no verdict word is False.
    """
    text = _THINK_BLOCK.sub(" ", str(x.value or "") if isinstance(x, CBlock) else str(x))
    for word in _WORD.findall(text.lower()):
        verdict = _VERDICTS.get(word)
        if verdict is not None:
            return verdict
    return False


ValidationFn = Callable[["Context"], "ValidationResult | bool | Awaitable[ValidationResult | bool]"]


class Requirement(Component[ValidationResult]):
    """A constraint on a model output.

    With `validation_fn` it is checked in code (the function gets the context whose last
    output is the candidate); without, by asking the model (LLM-as-a-judge), whose answer
    `output_to_bool` reads. `check_only=True` keeps the description out of the prompt.
    `chunking` ("word", "sentence", "paragraph", a `ChunkingStrategy`) sets the chunks
    its `stream_validate` receives during streaming validation (default: the stream's).
    """

    def __init__(
        self,
        description: str | None = None,
        validation_fn: ValidationFn | None = None,
        *,
        output_to_bool: Callable[[CBlock | str], bool] | None = default_output_to_bool,
        check_only: bool = False,
        chunking: str | ChunkingStrategy | None = None,
    ) -> None:
        self.description = description
        self.validation_fn = validation_fn
        self.output_to_bool = output_to_bool
        self.check_only = check_only
        self.chunking = resolve_chunking_strategy(chunking)
        """The chunks this requirement's `stream_validate` sees; None: the stream's."""

    def format_for_llm(self) -> str:
        return self.description or ""

    async def validate(
        self,
        backend: Backend,
        ctx: Context,
        *,
        format: type[BaseModel] | None = None,
        model_options: dict[str, Any] | None = None,
    ) -> ValidationResult:
        """Check `ctx.last_output()`; custom verifiers may override this.

        The default: `validation_fn` if given, else LLM-as-a-judge on `backend`.
        """
        from ._validation import default_validate  # it needs this module's types

        return await default_validate(
            self, backend, ctx, format=format, model_options=model_options
        )

    async def stream_validate(
        self, delta: str, *, backend: Backend, ctx: Context, flush: bool = False
    ) -> list[PartialValidationResult]:
        """Check the next piece of a stream; the default has no opinion (`"unknown"`).

        Override to fail a stream early (`"fail"` cancels the generation) or to report
        `"pass"`. An override may return one result or a list; `validate()` still runs on
        the whole output unless a chunk failed. `flush=True` marks the stream's end (the
        default then also returns `stream_flush`'s results).
        """
        results = [PartialValidationResult("unknown")]
        if flush:
            results += await self.stream_flush(backend=backend, ctx=ctx)
        return results

    async def stream_flush(
        self, *, backend: Backend, ctx: Context
    ) -> list[PartialValidationResult]:
        """Results for text held back until the stream ended; none by default."""
        return []

    def __repr__(self) -> str:
        kind = "check" if self.check_only else "req"
        fn = ", fn" if self.validation_fn is not None else ""
        return f"Requirement({kind}: {self.description!r}{fn})"


__all__ = [
    "PartialValidationResult",
    "PartialValidationSummary",
    "Requirement",
    "ValidationFn",
    "ValidationResult",
    "as_partial_results",
    "default_output_to_bool",
]
