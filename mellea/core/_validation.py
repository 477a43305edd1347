"""How a requirement is checked by default: its validation function, else LLM-as-a-judge.

- A **sync** validation function runs on a worker thread (a small shared pool), so user
  code may block — even call sync mellea APIs — without stalling mellea's I/O loop or
  deadlocking it. An **async** one is awaited on the calling loop.
- A function may return a `ValidationResult`, a bool, or `(bool, reason)`.
- A function that *raises* fails its requirement (reason: the exception, `error`: the
  exception) rather than the whole call: validators commonly choke on exactly the
  malformed output they exist to reject. The traceback is logged at WARNING.
- Without a function the model is asked whether the output meets the description (a
  generation on the same backend); `ValidationResult.thunk` is that judge generation and
  `reason` its answer. Backend errors of the judge propagate (the call cannot be judged);
  an `output_to_bool` that cannot read the answer fails the requirement with `error` set.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import os
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ._blocks import Component
from .errors import InvalidOptionError
from .requirement import ValidationResult, default_output_to_bool
from .thunk import ModelOutputThunk

if TYPE_CHECKING:
    from pydantic import BaseModel

    from .backend import Backend
    from .context import Context
    from .requirement import Requirement

logger = logging.getLogger("mellea")

TOOLS_OPTION = "@@@tools@@@"
"""The `ModelOption.TOOLS` key (a judge answers in words: it is never offered tools)."""

# Enough threads that a burst of blocking validators (e.g. 32 concurrent calls each doing
# a network check) overlap; threads are only created when needed.
_MAX_VALIDATION_THREADS = 32
_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():  # a forked child needs its own threads
            _pool = (
                os.getpid(),
                ThreadPoolExecutor(_MAX_VALIDATION_THREADS, thread_name_prefix="mellea-validate"),
            )
        return _pool[1]


_JUDGE_PROMPT = (
    "Decide whether the output below meets this requirement.\n\n"
    "Requirement: {requirement}\n\n"
    "Output:\n<output>\n{output}\n</output>\n\n"
    'Answer "yes" or "no" first, then give a one-sentence reason.'
)


class JudgeRequest(Component[bool]):
    """The prompt that asks the model whether an output meets a requirement."""

    def __init__(self, requirement: str, output: str) -> None:
        self.requirement = requirement
        self.output = output

    def format_for_llm(self) -> str:
        return _JUDGE_PROMPT.format(requirement=self.requirement, output=self.output)

    def _parse(self, computed: ModelOutputThunk[Any]) -> bool:
        return default_output_to_bool(computed)


def _as_result(verdict: object, ctx: Context) -> ValidationResult:
    if isinstance(verdict, ValidationResult):
        if verdict.context is None:
            verdict.context = ctx
        return verdict
    if isinstance(verdict, bool):
        return ValidationResult(verdict, context=ctx)
    if isinstance(verdict, tuple) and len(verdict) == 2 and isinstance(verdict[0], bool):
        return ValidationResult(verdict[0], reason=str(verdict[1]), context=ctx)
    raise TypeError(
        f"a validation function must return a ValidationResult or a bool, got {verdict!r}"
    )


async def run_validation_fn(requirement: Requirement, ctx: Context) -> ValidationResult:
    """Call `requirement.validation_fn` on `ctx` (sync ones on a worker thread)."""
    fn = requirement.validation_fn
    assert fn is not None
    try:
        if inspect.iscoroutinefunction(fn):
            verdict: object = await fn(ctx)
        else:
            loop = asyncio.get_running_loop()
            call = contextvars.copy_context().run
            verdict = await loop.run_in_executor(_executor(), call, fn, ctx)
            if inspect.isawaitable(verdict):  # e.g. a lambda returning a coroutine
                verdict = await verdict
        return _as_result(verdict, ctx)
    except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        name = requirement.description or getattr(fn, "__qualname__", repr(fn))
        logger.warning("mellea: the validation of %r raised", name, exc_info=True)
        return ValidationResult(
            False, reason=f"validation raised {type(exc).__name__}: {exc}", context=ctx, error=exc
        )


def judge_options(model_options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The call's options minus tools: a judge answers in words, it never calls tools."""
    return {k: v for k, v in (model_options or {}).items() if k != TOOLS_OPTION}


async def ajudge(
    requirement: Requirement,
    backend: Backend,
    ctx: Context,
    *,
    format: type[BaseModel] | None = None,
    model_options: Mapping[str, Any] | None = None,
) -> ValidationResult:
    """LLM-as-a-judge: ask `backend` whether `ctx.last_output()` meets the requirement."""
    if not requirement.description:
        raise InvalidOptionError(f"{requirement!r} has neither a description nor a function")
    output = ctx.last_output()
    if output is not None and not output.is_computed():
        await output.avalue()
    text = "" if output is None else output.value or ""
    # The judge sees the history of a chat context (the instruction, the candidate)
    # followed by its question, which quotes the candidate in case it sees nothing else.
    mot, judge_ctx = await backend.generate_from_context(
        JudgeRequest(requirement.description, text), ctx,
        format=format, model_options=judge_options(model_options),
    )  # fmt: skip
    answer = (await mot.avalue()).strip()
    to_bool = requirement.output_to_bool or default_output_to_bool
    try:
        verdict = bool(to_bool(mot))
    except Exception as exc:  # an unreadable answer fails the requirement, visibly
        logger.warning("mellea: could not read the judge's answer %r: %r", answer[:200], exc)
        return ValidationResult(False, reason=answer, thunk=mot, context=judge_ctx, error=exc)
    return ValidationResult(verdict, reason=answer, thunk=mot, context=judge_ctx)


async def default_validate(
    requirement: Requirement,
    backend: Backend,
    ctx: Context,
    *,
    format: type[BaseModel] | None = None,
    model_options: Mapping[str, Any] | None = None,
) -> ValidationResult:
    """`Requirement.validate`'s default: the validation function, else the judge."""
    if requirement.validation_fn is not None:
        return await run_validation_fn(requirement, ctx)
    return await ajudge(requirement, backend, ctx, format=format, model_options=model_options)


__all__ = [
    "TOOLS_OPTION",
    "JudgeRequest",
    "ajudge",
    "default_validate",
    "judge_options",
    "run_validation_fn",
]
