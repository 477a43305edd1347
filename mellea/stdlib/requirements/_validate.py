"""How a requirement is checked: its validation function, else LLM-as-a-judge.

- A **sync** validation function runs on a worker thread (a small shared pool), so user
  code may block — even call sync mellea APIs — without stalling mellea's I/O loop or
  deadlocking it. An **async** one is awaited on the calling loop.
- A function may return a `ValidationResult`, a bool, or `(bool, reason)`.
- A function that *raises* fails its requirement (reason: the exception) rather than the
  whole call: validators commonly choke on exactly the malformed output they exist to
  reject. The traceback is logged at WARNING.
- Without a function the model is asked whether the output meets the description (a
  generation on the same backend); `ValidationResult.thunk` is that judge generation and
  `reason` its answer. Backend errors of the judge propagate (the call cannot be judged).
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import os
import re
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ...backends.model_options import ModelOption
from ...core.base import CBlock, Component
from ...core.errors import InvalidOptionError
from ...core.requirement import Requirement, ValidationResult
from ...core.thunk import ModelOutputThunk
from ..context import SimpleContext

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ...core.backend import Backend
    from ...core.context import Context

logger = logging.getLogger("mellea")

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


_VERDICTS = {
    "yes": True, "true": True, "pass": True, "passes": True, "passed": True, "correct": True,
    "no": False, "false": False, "fail": False, "fails": False, "failed": False,
    "incorrect": False,
}  # fmt: skip
_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.IGNORECASE | re.DOTALL)
_WORD = re.compile(r"[a-z]+")


def default_output_to_bool(output: CBlock | str) -> bool:
    """Read a judge's answer: the first yes/no-like word decides ("No, ... yes" is False).

    Reasoning in `<think>` blocks is ignored; an answer with no verdict word is False.
    """
    text = _THINK_BLOCK.sub(" ", str(output.value or "") if isinstance(output, CBlock) else output)
    for word in _WORD.findall(text.lower()):
        verdict = _VERDICTS.get(word)
        if verdict is not None:
            return verdict
    return False


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
    except BaseException as exc:
        name = requirement.description or getattr(fn, "__qualname__", repr(fn))
        logger.warning("mellea: the validation of %r raised", name, exc_info=True)
        return ValidationResult(
            False, reason=f"validation raised {type(exc).__name__}: {exc}", context=ctx
        )


def judge_options(model_options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The call's options minus tools: a judge answers in words, it never calls tools."""
    return {k: v for k, v in (model_options or {}).items() if k != ModelOption.TOOLS}


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
    answer = await mot.avalue()
    to_bool = requirement.output_to_bool or default_output_to_bool
    return ValidationResult(to_bool(mot), reason=answer.strip(), thunk=mot, context=judge_ctx)


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
    return list(
        await asyncio.gather(
            *(r.validate(backend, ctx, format=format, model_options=options) for r in reqs)
        )
    )


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
