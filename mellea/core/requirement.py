"""Requirements and validation results (the data; validation logic lives in stdlib)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .base import CBlock, Component

if TYPE_CHECKING:
    from pydantic import BaseModel

    from .backend import Backend
    from .context import Context
    from .thunk import ModelOutputThunk


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

    def __bool__(self) -> bool:
        return self.result

    def as_bool(self) -> bool:
        return self.result


ValidationFn = Callable[["Context"], "ValidationResult | bool | Awaitable[ValidationResult | bool]"]


class Requirement(Component[ValidationResult]):
    """A constraint on a model output.

    With `validation_fn` it is checked in code (the function gets the context whose last
    output is the candidate); without, by asking the model (LLM-as-a-judge).
    `check_only=True` keeps the description out of the prompt.
    """

    def __init__(
        self,
        description: str | None = None,
        validation_fn: ValidationFn | None = None,
        *,
        output_to_bool: Callable[[CBlock | str], bool] | None = None,
        check_only: bool = False,
    ) -> None:
        self.description = description
        self.validation_fn = validation_fn
        self.output_to_bool = output_to_bool
        self.check_only = check_only

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

        The default (`validation_fn`, else LLM-as-a-judge on `backend`) lives in
        `mellea.stdlib.requirements`, imported here on use so `core` stays I/O-free.
        """
        from ..stdlib.requirements._validate import default_validate

        return await default_validate(
            self, backend, ctx, format=format, model_options=model_options
        )

    def __repr__(self) -> str:
        kind = "check" if self.check_only else "req"
        fn = ", fn" if self.validation_fn is not None else ""
        return f"Requirement({kind}: {self.description!r}{fn})"


__all__ = ["Requirement", "ValidationFn", "ValidationResult"]
