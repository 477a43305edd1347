"""Checking requirements against an output (the default check itself is in core).

`Requirement.validate`'s default — the validation function on a worker thread, else
LLM-as-a-judge — lives in `mellea.core._validation` (re-exported here); this module adds
what the session and functional APIs need on top: the context to validate against
(`target_context`) and checking many requirements at once (`avalidate_all`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ...core import hooks
from ...core._validation import (
    JudgeRequest,
    ajudge,
    default_validate,
    judge_options,
    run_validation_fn,
)
from ...core.base import CBlock, Component
from ...core.requirement import Requirement, ValidationResult, default_output_to_bool
from ...core.thunk import ModelOutputThunk
from ..context import SimpleContext

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ...core.backend import Backend
    from ...core.context import Context


def target_context(
    context: Context, output: CBlock | str | None, input: Component[Any] | CBlock | None
) -> Context:
    """The context to validate against: `context` itself, or one ending in `output`."""
    if output is None:
        return context
    if isinstance(output, str):
        output = ModelOutputThunk(output)
    elif not isinstance(output, ModelOutputThunk):
        # `last_output()` looks for model outputs: present a plain block as one.
        output = ModelOutputThunk(output.value or "")
    ctx: Context = SimpleContext()
    if input is not None:
        ctx = ctx.add(input)
    return ctx.add(output)


async def avalidate_all(
    requirements: Sequence[Requirement | str] | Requirement | str,
    context: Context,
    backend: Backend,
    *,
    output: CBlock | str | None = None,
    input: Component[Any] | CBlock | None = None,
    format: type[BaseModel] | None = None,
    model_options: Mapping[str, Any] | None = None,
) -> list[ValidationResult]:
    """Check every requirement, concurrently; results are in requirement order.

    Checks the last output of `context`, or `output` when given (waiting for it if it is
    a thunk still generating).
    """
    from .requirement import reqify

    if isinstance(requirements, Requirement | str):
        requirements = [requirements]
    reqs = [reqify(r) for r in requirements]
    ctx = target_context(context, output, input)
    last = ctx.last_output()
    if last is not None and not last.is_computed():
        await last.avalue()
    options = dict(model_options or {})

    def check(reqs: Sequence[Requirement], override: dict[str, Any] | None) -> Any:
        opts = {**options, **override} if override else options
        return asyncio.gather(
            *(r.validate(backend, ctx, format=format, model_options=opts) for r in reqs)
        )

    if hooks.active:  # the validation hook points (mellea.core.hooks.validation)
        _, results = await hooks.validation.around(reqs, last, ctx, options, check, backend)
        return results
    return list(await check(reqs, None))


__all__ = [
    "JudgeRequest",
    "ajudge",
    "avalidate_all",
    "default_output_to_bool",
    "default_validate",
    "judge_options",
    "run_validation_fn",
    "target_context",
]
