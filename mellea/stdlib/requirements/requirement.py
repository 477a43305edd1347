"""Constructors for requirements: `req`, `check`, `reqify` and `simple_validate`."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from ...core.base import CBlock
from ...core.context import Context
from ...core.requirement import Requirement, ValidationFn, ValidationResult
from ._validate import default_output_to_bool

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


class LLMaJRequirement(Requirement):
    """A requirement always checked by asking the model (LLM-as-a-judge), never by an adapter.

    Same as a plain `Requirement` without a `validation_fn`; a given `validation_fn` still
    wins (it is checked in code). `output_to_bool` reads the judge's answer.
    """

    use_aloras: bool = False

    def __init__(
        self,
        description: str | None = None,
        validation_fn: ValidationFn | None = None,
        *,
        output_to_bool: Callable[[Any], bool] | None = default_output_to_bool,
        check_only: bool = False,
        chunking: Any = None,
    ) -> None:
        super().__init__(
            description, validation_fn, output_to_bool=output_to_bool, check_only=check_only,
            chunking=chunking,
        )  # fmt: skip


class ALoraRequirement(LLMaJRequirement):
    """A requirement checked by a requirement-check adapter where the backend has one.

    Adapters (LoRA / aLoRA) are not supported by this implementation's backends, so it is
    judged like `LLMaJRequirement`, with `requirement_check_to_bool` reading the answer
    (it understands both an adapter's `{"requirement_likelihood": p}` and a yes/no).
    """

    def __init__(
        self,
        description: str,
        intrinsic_name: str | None = None,
        *,
        adapter_types: tuple[Any, ...] | None = None,
    ) -> None:
        super().__init__(description, output_to_bool=requirement_check_to_bool)
        self.intrinsic_name = intrinsic_name or "requirement-check"
        self.adapter_types = adapter_types
        self.use_aloras = True


def requirement_check_to_bool(x: CBlock | str) -> bool:
    """A requirement check's verdict: `{"requirement_likelihood": p}` passes when p > 0.5;
    otherwise the first yes/no word decides (as `default_output_to_bool`)."""
    text = str(x.value or "") if isinstance(x, CBlock) else str(x)
    try:
        parsed = json.loads(text)
    except ValueError:
        return default_output_to_bool(text)
    if isinstance(parsed, dict):
        for key in ("requirement_likelihood", "requirement_check", "score"):
            value = parsed.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value) > 0.5
            if isinstance(value, str):
                return default_output_to_bool(value)
    return default_output_to_bool(text)


__all__ = [
    "ALoraRequirement",
    "LLMaJRequirement",
    "check",
    "req",
    "reqify",
    "requirement_check_to_bool",
    "simple_validate",
]
