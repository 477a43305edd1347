"""`@generative`: a typed Python signature + docstring whose body the model supplies.

```python
@generative
def classify(text: str) -> Literal["positive", "negative"]:
    \"\"\"Classify the sentiment of the text.\"\"\"

label = classify(m, text="I love it")                    # a session: the value
label, ctx = classify(context=ctx, backend=b, text="x")  # functional: (value, new context)
label = await aclassify(m, text="x")                     # an `async def` stub is awaited
```

The return annotation decides the output:

- `str` (or none): the model's text, stripped.
- a pydantic model: the reply is constrained to (`format=`) and validated as that model;
  `.value` of the thunk is its JSON, so requirements see the JSON text.
- anything else pydantic can validate (`int`, `bool`, `Literal[...]`, `list[...]`,
  `dict`, unions, ...): the reply is a JSON object `{"result": ...}` constrained to and
  validated against that type.

Output that does not validate is never returned: without a `strategy`, a failed parse is
retried once and then raises `ComponentParseError`; with a `strategy` (or `requirements`),
the sampling strategy treats it as a failed attempt.

Extra keyword arguments: `requirements=` (checked on the output by the strategy),
`strategy=`, `model_options=`, and `precondition_requirements=`: checked on the inputs
before any generation (always, with or without a strategy); failures raise
`PreconditionException` whose `.validation` lists the failed `ValidationResult`s. A
precondition's validation function sees the argument's value as the output text when the
function has one argument, else `name: value` lines.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import sys
import typing
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast, overload

from ...core.errors import ComponentParseError, InvalidOptionError, MelleaError
from ...core.requirement import Requirement, ValidationResult
from ...core.thunk import ModelOutputThunk
from ._gencall import RESERVED, FunctionSpec, GenerativeCall, arg_text
from .instruction import as_requirement

if TYPE_CHECKING:
    from ...core.backend import Backend
    from ...core.context import Context

R = TypeVar("R")
logger = logging.getLogger("mellea")

_PARSE_ATTEMPTS = 2  # without a strategy: like RejectionSamplingStrategy(loop_budget=2)


class PreconditionException(MelleaError):
    """The inputs of a generative function failed its `precondition_requirements`.

    `validation` holds the `ValidationResult` of every failed precondition.
    """

    def __init__(self, message: str, validation_results: Sequence[ValidationResult]) -> None:
        super().__init__(message)
        self.validation = list(validation_results)


class _Call:
    """A parsed invocation: where to run it, its options, and the function's arguments."""

    session: Any = None
    context: Context | None = None
    backend: Backend | None = None
    requirements: list[Requirement]
    preconditions: list[Requirement]
    strategy: Any
    model_options: dict[str, Any] | None
    arguments: dict[str, Any]


class GenerativeStub(Generic[R]):
    """What `@generative` returns: call it with a session or a context and a backend."""

    def __init__(self, func: Callable[..., Any], localns: Mapping[str, Any] | None = None) -> None:
        self._spec = FunctionSpec(func, localns)
        self.is_async = inspect.iscoroutinefunction(func)
        functools.update_wrapper(self, func)

    def _parse_call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Call:
        from ...core.backend import Backend
        from ...core.context import Context
        from ..functional import UNSET
        from ..session import MelleaSession

        name = self._spec.name
        call = _Call()
        rest = list(args)
        if rest and isinstance(rest[0], MelleaSession):
            call.session = rest.pop(0)
        elif rest and isinstance(rest[0], Context):
            call.context = rest.pop(0)
            if rest and isinstance(rest[0], Backend):
                call.backend = rest.pop(0)
        if rest:
            raise TypeError(
                f"{name}() takes its arguments as keywords, e.g. {name}(m, "
                f"{', '.join(f'{p}=...' for p in self._spec.signature.parameters)}); "
                f"got {len(rest)} positional argument(s) after the session"
            )
        if "m" in kwargs:
            if call.session is not None:
                raise TypeError(f"{name}() got the session twice")
            call.session = kwargs.pop("m")
        call.context = kwargs.pop("context", call.context)
        call.backend = kwargs.pop("backend", call.backend)
        if call.session is not None:
            if not isinstance(call.session, MelleaSession):
                raise TypeError(
                    f"{name}(m, ...): m must be a MelleaSession, got {call.session!r:.80}"
                )
            if call.context is not None or call.backend is not None:
                raise TypeError(f"{name}() takes a session or context= and backend=, not both")
        elif not isinstance(call.context, Context) or not isinstance(call.backend, Backend):
            raise TypeError(
                f"{name}() needs a MelleaSession as its first argument, or both "
                f"context=<Context> and backend=<Backend>"
            )
        call.requirements = [as_requirement(r) for r in kwargs.pop("requirements", None) or ()]
        call.preconditions = [
            as_requirement(r) for r in kwargs.pop("precondition_requirements", None) or ()
        ]
        call.strategy = kwargs.pop("strategy", UNSET)
        options = kwargs.pop("model_options", None)
        call.model_options = dict(options) if options else None
        call.arguments = self._bind(kwargs)
        return call

    def _bind(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        params = self._spec.signature.parameters
        takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in params.values())
        unknown = [k for k in kwargs if k not in params]
        if unknown and not takes_kwargs:
            raise TypeError(
                f"{self._spec.name}() got unexpected keyword argument(s) {unknown}; its "
                f"parameters are {list(params)} (and the options {list(RESERVED[3:])})"
            )
        try:
            bound = self._spec.signature.bind(**kwargs)
        except TypeError as exc:
            raise TypeError(f"{self._spec.name}(): {exc}") from None
        bound.apply_defaults()
        return dict(bound.arguments)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        call = self._parse_call(args, kwargs)  # argument errors raise here, even if async
        if self.is_async:
            return self._run(call)
        from ...helpers.portal import run_sync

        return run_sync(self._run(call))

    async def _run(self, call: _Call) -> Any:
        from .. import functional as mfuncs
        from ..functional import UNSET

        spec = self._spec
        spec.resolve()
        for value in call.arguments.values():  # composed lazy inputs: wait for them
            if isinstance(value, ModelOutputThunk) and not value.is_computed():
                await value.avalue()
        backend = call.session.backend if call.session is not None else call.backend
        assert backend is not None
        if call.preconditions:
            await self._check_preconditions(call, backend)
        action = GenerativeCall(spec, call.arguments, call.requirements)
        strategy = call.strategy
        if strategy is UNSET and not call.requirements:
            strategy = None  # no strategy: our own parse retry below
        attempts = _PARSE_ATTEMPTS if strategy is None else 1
        requirements = call.requirements or None
        for attempt in range(1, attempts + 1):
            ctx: Context | None = None
            before = call.session.ctx if call.session is not None else None
            if call.session is not None:
                mot = await call.session.aact(
                    action, requirements=requirements, strategy=strategy, format=spec.format,
                    model_options=call.model_options, await_result=True,
                )  # fmt: skip
            else:
                assert call.context is not None
                mot, ctx = await mfuncs.aact(
                    action, call.context, backend, requirements=requirements,
                    strategy=strategy, format=spec.format, model_options=call.model_options,
                    await_result=True,
                )  # fmt: skip
            try:
                value = self._value(mot)
            except ComponentParseError:
                if attempt == attempts:
                    raise
                if call.session is not None and call.session.ctx.node_data is mot:
                    call.session.ctx = before  # the retry replaces the failed turn
                logger.info("mellea: %s() output did not validate; retrying", spec.name)
                continue
            return value if ctx is None else (value, ctx)
        raise AssertionError("unreachable")

    def _value(self, mot: ModelOutputThunk[Any]) -> Any:
        error = mot.generation.extra.get("parse_error")
        if isinstance(error, ComponentParseError):
            raise error
        spec = self._spec
        parsed = mot.parsed_repr
        if spec.format is not None and isinstance(parsed, spec.format):
            return parsed if spec.mode == "model" else parsed.result  # type: ignore[attr-defined]  # the wrapper model's one field
        return spec.value_of(mot.value or "")

    async def _check_preconditions(self, call: _Call, backend: Backend) -> None:
        from ..context import SimpleContext

        args = call.arguments
        if len(args) == 1:
            text = arg_text(next(iter(args.values())), quoted=False)
        else:
            text = "\n".join(f"{k}: {arg_text(v, quoted=False)}" for k, v in args.items())
        ctx = SimpleContext().add(ModelOutputThunk(text))
        results = await asyncio.gather(
            *(_validate(r, backend, ctx, call.model_options) for r in call.preconditions)
        )
        failed = [r for r in results if not r.result]
        if failed:
            reasons = "; ".join(r.reason or "failed" for r in failed)
            raise PreconditionException(
                f"{self._spec.name}() arguments failed {len(failed)} precondition(s): {reasons}",
                failed,
            )

    def __repr__(self) -> str:
        return f"<generative {'async ' if self.is_async else ''}function {self._spec.name}>"


async def _validate(
    req: Requirement, backend: Backend, ctx: Context, model_options: dict[str, Any] | None
) -> ValidationResult:
    validate = getattr(req, "validate", None)
    if callable(validate):  # the requirements layer: validation function or LLM judge
        result = await validate(backend, ctx, model_options=model_options)
        return typing.cast(ValidationResult, result)
    if req.validation_fn is None:
        raise InvalidOptionError(
            f"precondition {req.description!r} has no validation function, and this build "
            "has no LLM-as-a-judge to check it"
        )
    fn = req.validation_fn
    verdict: Any = await asyncio.to_thread(fn, ctx)  # user code may block: not on the loop
    if inspect.isawaitable(verdict):
        verdict = await verdict
    if isinstance(verdict, ValidationResult):
        return verdict
    if isinstance(verdict, tuple):
        return ValidationResult(bool(verdict[0]), reason=str(verdict[1]))
    return ValidationResult(bool(verdict))


class SyncGenerativeStub(GenerativeStub[R]):
    """`@generative` on a regular function: calls return the value (or `(value, ctx)`)."""

    @overload
    def __call__(self, m: Any, /, **kwargs: Any) -> R: ...
    @overload
    def __call__(self, /, **kwargs: Any) -> R | tuple[R, Context]: ...
    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        return super().__call__(*args, **kwargs)


class AsyncGenerativeStub(GenerativeStub[R]):
    """`@generative` on an `async def`: calls return a coroutine of the value."""

    def __call__(self, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, Any]:
        return cast("Coroutine[Any, Any, Any]", super().__call__(*args, **kwargs))


@overload
def generative(  # type: ignore[overload-overlap]  # a coroutine function is also a Callable
    func: Callable[..., Coroutine[Any, Any, R]],
) -> AsyncGenerativeStub[R]: ...
@overload
def generative(func: Callable[..., R]) -> SyncGenerativeStub[R]: ...
def generative(func: Callable[..., Any]) -> GenerativeStub[Any]:
    """Decorator: the model implements `func` from its signature and docstring."""
    # Return types defined in the caller's function body (tests, notebooks) resolve too.
    frame = sys._getframe(1)
    localns = frame.f_locals if frame.f_code.co_name != "<module>" else None
    if inspect.iscoroutinefunction(func):
        return AsyncGenerativeStub(func, localns)
    return SyncGenerativeStub(func, localns)


__all__ = [
    "AsyncGenerativeStub",
    "GenerativeCall",
    "GenerativeStub",
    "PreconditionException",
    "SyncGenerativeStub",
    "generative",
]
