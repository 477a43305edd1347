"""Constructors for requirements: `req`, `check`, `reqify` and `simple_validate`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ...core.context import Context
from ...core.requirement import Requirement, ValidationFn, ValidationResult

logger = logging.getLogger("mellea")


def req(
    description: str | None = None, validation_fn: ValidationFn | None = None, **kwargs: Any
) -> Requirement:
    """A requirement whose description is shown to the model (and checked afterwards)."""
    return Requirement(description, validation_fn, **kwargs)


def check(
    description: str | None = None, validation_fn: ValidationFn | None = None, **kwargs: Any
) -> Requirement:
    """A check-only requirement: validated, but its description is kept out of the prompt.

    Use it for negative constraints ("do not mention X") that would otherwise plant the
    very idea in the model's mind.
    """
    kwargs["check_only"] = True
    return Requirement(description, validation_fn, **kwargs)


def reqify(r: str | Requirement) -> Requirement:
    """`r` as a `Requirement` (a plain string becomes an LLM-judged one)."""
    if isinstance(r, Requirement):
        return r
    if isinstance(r, str):
        return Requirement(r)
    raise TypeError(f"a requirement must be a str or Requirement, not {type(r).__name__}")


def simple_validate(
    fn: Callable[[str], bool | tuple[bool, str]], *, reason: str | None = None
) -> Callable[[Context], ValidationResult]:
    """A validation function from a check on the output *text*.

    `fn` gets the last output's text and returns a bool, or `(bool, reason)`; `reason`
    (here, or from the tuple) is what a repair prompt tells the model. The result is a
    plain (sync) function: mellea runs it on a worker thread, so it may block.
    """

    def validate(ctx: Context) -> ValidationResult:
        output = ctx.last_output()
        if output is None or output.value is None:
            logger.warning("mellea: simple_validate found no computed output to check")
            return ValidationResult(False, reason="there is no output to check", context=ctx)
        verdict = fn(output.value)
        if isinstance(verdict, bool):
            return ValidationResult(verdict, reason=reason, context=ctx)
        if (
            isinstance(verdict, tuple)
            and len(verdict) == 2
            and isinstance(verdict[0], bool)
            and isinstance(verdict[1], str)
        ):
            return ValidationResult(verdict[0], reason=verdict[1] or reason, context=ctx)
        raise TypeError(
            f"a simple_validate function must return a bool or a (bool, str) tuple, got {verdict!r}"
        )

    validate.__qualname__ = f"simple_validate({getattr(fn, '__qualname__', repr(fn))})"
    return validate


__all__ = ["check", "req", "reqify", "simple_validate"]
