"""The functional API: session operations as functions of (context, backend).

Each function takes a context and returns the result with the *new* context; nothing is
stored anywhere. `MelleaSession` is a thin stateful layer over these. The `a*` functions
are the implementation; the sync ones run them on mellea's I/O loop and wait.

The returned context is of the same type as the one given; a strategy or backend that
returns another kind raises `ContextTypeMismatchError` unless
`allow_context_type_change=True`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from ..core import hooks
from ..core.base import CBlock, Component
from ..core.context import Context, ContextTypeMismatchError
from ..core.errors import InvalidOptionError
from ..core.message import Document, Message, MessageRole
from ..core.requirement import Requirement, ValidationResult
from ..core.sampling import SamplingResult
from ..core.thunk import ModelOutputThunk
from ..helpers.portal import run_sync
from ._messages import chat_message, image_blocks, reply_message
from .components.instruction import Instruction
from .requirements import avalidate_all
from .sampling.lazy import asample, sampling_strategy

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ..core.backend import Backend

ContextT = TypeVar("ContextT", bound=Context)
"""The context type a call is given, and returns."""


class _Unset:
    def __repr__(self) -> str:
        return "<default>"


UNSET: Any = _Unset()
"""`strategy=` not given: the operation's default strategy applies."""


# Tuples, not `A | B`: a union object would be built on every call.
_ACTION_TYPES = (Component, CBlock)
_DESCRIPTION_TYPES = (str, CBlock)


def _check_action(action: object) -> None:
    if not isinstance(action, _ACTION_TYPES):
        raise TypeError(f"act() takes a Component or CBlock, got {type(action).__name__}")


def check_context_type(given: Context, returned: Context, allowed: bool) -> None:
    """Raise `ContextTypeMismatchError` if `returned` is not of `given`'s type."""
    if not allowed and type(returned) is not type(given):
        raise ContextTypeMismatchError(type(given), type(returned))


@overload
async def aact(
    action: Component[Any] | CBlock, context: ContextT, backend: Backend, *,
    requirements: Sequence[Requirement | str] | None = ..., strategy: Any = ...,
    return_sampling_results: Literal[False] = ..., format: type[BaseModel] | None = ...,
    model_options: Mapping[str, Any] | None = ..., tool_calls: bool = ...,
    silence_context_type_warning: bool = ..., allow_context_type_change: bool = ...,
    await_result: bool = ...,
) -> tuple[ModelOutputThunk[Any], ContextT]: ...  # fmt: skip
@overload
async def aact(
    action: Component[Any] | CBlock, context: ContextT, backend: Backend, *,
    requirements: Sequence[Requirement | str] | None = ..., strategy: Any = ...,
    return_sampling_results: Literal[True], format: type[BaseModel] | None = ...,
    model_options: Mapping[str, Any] | None = ..., tool_calls: bool = ...,
    silence_context_type_warning: bool = ..., allow_context_type_change: bool = ...,
    await_result: bool = ...,
) -> tuple[SamplingResult, ContextT]: ...  # fmt: skip
@overload
async def aact(
    action: Component[Any] | CBlock, context: ContextT, backend: Backend, *,
    requirements: Sequence[Requirement | str] | None = ..., strategy: Any = ...,
    return_sampling_results: bool = ..., format: type[BaseModel] | None = ...,
    model_options: Mapping[str, Any] | None = ..., tool_calls: bool = ...,
    silence_context_type_warning: bool = ..., allow_context_type_change: bool = ...,
    await_result: bool = ...,
) -> tuple[ModelOutputThunk[Any] | SamplingResult, ContextT]: ...  # fmt: skip
async def aact(
    action: Component[Any] | CBlock,
    context: ContextT,
    backend: Backend,
    *,
    requirements: Sequence[Requirement | str] | None = None,
    strategy: Any = UNSET,
    return_sampling_results: bool = False,
    format: type[BaseModel] | None = None,
    model_options: Mapping[str, Any] | None = None,
    tool_calls: bool = False,
    silence_context_type_warning: bool = False,
    allow_context_type_change: bool = False,
    await_result: bool = False,
    _hooked: bool = False,
) -> tuple[ModelOutputThunk[Any] | SamplingResult, ContextT]:
    """Start `action` on `backend` given `context`; returns (thunk, new context) at once.

    The thunk is uncomputed unless `await_result=True`. With requirements or `format=`,
    a strategy (default `RejectionSamplingStrategy(loop_budget=2)`) runs the
    sample/validate/repair loop in the background behind the returned thunk (see
    `mellea.stdlib.sampling.lazy`); `return_sampling_results=True` waits for the loop and
    returns its `SamplingResult` instead. (`silence_context_type_warning` is accepted for
    compatibility: the stale-context warning is the session's, logged only when requests
    on a history-carrying context really overlap.)
    """
    _check_action(action)
    if hooks.active and not _hooked:  # the component hook points (mellea.core.hooks.component)
        hooked: tuple[ModelOutputThunk[Any] | SamplingResult, ContextT]
        hooked = await hooks.component.around(
            aact, action, context, backend, requirements=requirements, strategy=strategy,
            return_sampling_results=return_sampling_results, format=format,
            model_options=model_options, tool_calls=tool_calls,
            allow_context_type_change=allow_context_type_change, await_result=await_result,
            _hooked=True,
        )  # fmt: skip
        return hooked
    sampler = sampling_strategy(
        requirements, None if strategy is UNSET else strategy, default=strategy is UNSET,
        format=format, return_results=return_sampling_results,
    )  # fmt: skip
    if sampler is not None:
        result, new_ctx = await asample(
            sampler, action, context, backend, requirements=requirements,
            return_sampling_results=return_sampling_results, format=format,
            model_options=model_options, tool_calls=tool_calls, await_result=await_result,
        )  # fmt: skip
        contexts = result.sample_contexts if isinstance(result, SamplingResult) else None
        for ctx in [new_ctx, *(contexts or [])]:
            check_context_type(context, ctx, allow_context_type_change)
        return result, new_ctx  # type: ignore[return-value]  # checked just above
    mot, new_ctx = await backend.generate_from_context(
        action, context, format=format, model_options=dict(model_options or {}),
        tool_calls=tool_calls,
    )  # fmt: skip
    check_context_type(context, new_ctx, allow_context_type_change)
    if await_result:
        await mot.avalue()
    return mot, new_ctx  # type: ignore[return-value]  # checked just above


@overload
async def ainstruct(
    description: str, context: ContextT, backend: Backend, *, images: Sequence[Any] | None = ...,
    audio: Sequence[Any] | None = ..., requirements: Sequence[Requirement | str] | None = ...,
    icl_examples: Sequence[str | CBlock] | None = ...,
    grounding_context: Mapping[str, str | CBlock | Component[Any]] | None = ...,
    user_variables: Mapping[str, Any] | None = ..., prefix: str | CBlock | None = ...,
    output_prefix: str | CBlock | None = ..., strategy: Any = ...,
    return_sampling_results: Literal[False] = ..., format: type[BaseModel] | None = ...,
    model_options: Mapping[str, Any] | None = ..., tool_calls: bool = ...,
    allow_context_type_change: bool = ..., await_result: bool = ...,
) -> tuple[ModelOutputThunk[Any], ContextT]: ...  # fmt: skip
@overload
async def ainstruct(
    description: str, context: ContextT, backend: Backend, *, images: Sequence[Any] | None = ...,
    audio: Sequence[Any] | None = ..., requirements: Sequence[Requirement | str] | None = ...,
    icl_examples: Sequence[str | CBlock] | None = ...,
    grounding_context: Mapping[str, str | CBlock | Component[Any]] | None = ...,
    user_variables: Mapping[str, Any] | None = ..., prefix: str | CBlock | None = ...,
    output_prefix: str | CBlock | None = ..., strategy: Any = ...,
    return_sampling_results: Literal[True], format: type[BaseModel] | None = ...,
    model_options: Mapping[str, Any] | None = ..., tool_calls: bool = ...,
    allow_context_type_change: bool = ..., await_result: bool = ...,
) -> tuple[SamplingResult, ContextT]: ...  # fmt: skip
@overload
async def ainstruct(
    description: str, context: ContextT, backend: Backend, *, images: Sequence[Any] | None = ...,
    audio: Sequence[Any] | None = ..., requirements: Sequence[Requirement | str] | None = ...,
    icl_examples: Sequence[str | CBlock] | None = ...,
    grounding_context: Mapping[str, str | CBlock | Component[Any]] | None = ...,
    user_variables: Mapping[str, Any] | None = ..., prefix: str | CBlock | None = ...,
    output_prefix: str | CBlock | None = ..., strategy: Any = ...,
    return_sampling_results: bool = ..., format: type[BaseModel] | None = ...,
    model_options: Mapping[str, Any] | None = ..., tool_calls: bool = ...,
    allow_context_type_change: bool = ..., await_result: bool = ...,
) -> tuple[ModelOutputThunk[Any] | SamplingResult, ContextT]: ...  # fmt: skip
async def ainstruct(
    description: str,
    context: ContextT,
    backend: Backend,
    *,
    images: Sequence[Any] | None = None,
    audio: Sequence[Any] | None = None,
    requirements: Sequence[Requirement | str] | None = None,
    icl_examples: Sequence[str | CBlock] | None = None,
    grounding_context: Mapping[str, str | CBlock | Component[Any]] | None = None,
    user_variables: Mapping[str, Any] | None = None,
    prefix: str | CBlock | None = None,
    output_prefix: str | CBlock | None = None,
    strategy: Any = UNSET,
    return_sampling_results: bool = False,
    format: type[BaseModel] | None = None,
    model_options: Mapping[str, Any] | None = None,
    tool_calls: bool = False,
    allow_context_type_change: bool = False,
    await_result: bool = False,
) -> tuple[ModelOutputThunk[Any] | SamplingResult, ContextT]:
    """Build an `Instruction` and `aact` it (images may be blocks or PIL images)."""
    if not isinstance(description, _DESCRIPTION_TYPES):
        raise TypeError(f"instruct() takes a str description, got {type(description).__name__}")
    if isinstance(description, str) and not description.strip() and not user_variables:
        raise InvalidOptionError("instruct() needs a non-empty description")
    instruction = Instruction(
        description, requirements=requirements, icl_examples=icl_examples,
        grounding_context=grounding_context, user_variables=user_variables, prefix=prefix,
        output_prefix=output_prefix, images=image_blocks(images), audio=list(audio or ()) or None,
    )  # fmt: skip
    return await aact(
        instruction, context, backend, requirements=instruction.requirements,
        strategy=strategy, return_sampling_results=return_sampling_results, format=format,
        model_options=model_options, tool_calls=tool_calls,
        allow_context_type_change=allow_context_type_change, await_result=await_result,
    )  # fmt: skip


async def achat(
    content: str,
    context: ContextT,
    backend: Backend,
    *,
    role: MessageRole = "user",
    images: Sequence[Any] | None = None,
    audio: Sequence[Any] | None = None,
    documents: Iterable[str | Document] | None = None,
    user_variables: Mapping[str, Any] | None = None,
    format: type[BaseModel] | None = None,
    model_options: Mapping[str, Any] | None = None,
    tool_calls: bool = False,
    allow_context_type_change: bool = False,
) -> tuple[Message, ContextT]:
    """Send one chat message; returns the reply `Message` (awaited) and the new context."""
    message = chat_message(content, role, images, user_variables, audio=audio, documents=documents)
    mot, new_ctx = await aact(
        message, context, backend, strategy=None, format=format, model_options=model_options,
        tool_calls=tool_calls, allow_context_type_change=allow_context_type_change,
        await_result=True,
    )  # fmt: skip
    return reply_message(mot), new_ctx


async def avalidate(
    reqs: Requirement | str | Sequence[Requirement | str],
    context: Context,
    backend: Backend,
    *,
    output: CBlock | str | None = None,
    format: type[BaseModel] | None = None,
    model_options: Mapping[str, Any] | None = None,
    generate_logs: list[Any] | None = None,
    input: Component[Any] | CBlock | None = None,
) -> list[ValidationResult]:
    """Check requirements against the last output of `context` (or `output`), concurrently.

    Results are in requirement order; a thunk still generating is waited for first. With
    `generate_logs=[]`, the log of every judge generation is appended to that list.
    """
    results = await avalidate_all(
        reqs, context, backend, output=output, input=input, format=format,
        model_options=model_options,
    )  # fmt: skip
    if generate_logs is not None:
        for result in results:
            log = getattr(result.thunk, "generate_log", None)
            if log is not None:
                generate_logs.append(log)
    return results


# ----- the sync twins: run the async implementation on mellea's I/O loop ----------------------


def act(
    action: Component[Any] | CBlock,
    context: ContextT,
    backend: Backend,
    *,
    requirements: Sequence[Requirement | str] | None = None,
    strategy: Any = UNSET,
    return_sampling_results: bool = False,
    format: type[BaseModel] | None = None,
    model_options: Mapping[str, Any] | None = None,
    tool_calls: bool = False,
    allow_context_type_change: bool = False,
) -> tuple[Any, ContextT]:
    """Blocking `aact`: the thunk is computed (or the `SamplingResult`, if asked for)."""
    result: tuple[Any, ContextT] = run_sync(
        aact(
            action, context, backend, requirements=requirements, strategy=strategy,
            return_sampling_results=return_sampling_results, format=format,
            model_options=model_options, tool_calls=tool_calls,
            allow_context_type_change=allow_context_type_change, await_result=True,
        )
    )  # fmt: skip
    return result


def instruct(
    description: str,
    context: ContextT,
    backend: Backend,
    *,
    images: Sequence[Any] | None = None,
    audio: Sequence[Any] | None = None,
    requirements: Sequence[Requirement | str] | None = None,
    icl_examples: Sequence[str | CBlock] | None = None,
    grounding_context: Mapping[str, str | CBlock | Component[Any]] | None = None,
    user_variables: Mapping[str, Any] | None = None,
    prefix: str | CBlock | None = None,
    output_prefix: str | CBlock | None = None,
    strategy: Any = UNSET,
    return_sampling_results: bool = False,
    format: type[BaseModel] | None = None,
    model_options: Mapping[str, Any] | None = None,
    tool_calls: bool = False,
    allow_context_type_change: bool = False,
) -> tuple[Any, ContextT]:
    """Blocking `ainstruct`: the thunk is computed (or the `SamplingResult`, if asked for)."""
    result: tuple[Any, ContextT] = run_sync(
        ainstruct(
            description, context, backend, images=images, audio=audio,
            requirements=requirements, icl_examples=icl_examples,
            grounding_context=grounding_context, user_variables=user_variables,
            prefix=prefix, output_prefix=output_prefix, strategy=strategy,
            return_sampling_results=return_sampling_results, format=format,
            model_options=model_options, tool_calls=tool_calls,
            allow_context_type_change=allow_context_type_change, await_result=True,
        )
    )  # fmt: skip
    return result


def chat(
    content: str,
    context: ContextT,
    backend: Backend,
    *,
    role: MessageRole = "user",
    images: Sequence[Any] | None = None,
    audio: Sequence[Any] | None = None,
    documents: Iterable[str | Document] | None = None,
    user_variables: Mapping[str, Any] | None = None,
    format: type[BaseModel] | None = None,
    model_options: Mapping[str, Any] | None = None,
    tool_calls: bool = False,
    allow_context_type_change: bool = False,
) -> tuple[Message, ContextT]:
    """Blocking `achat`."""
    return run_sync(
        achat(
            content, context, backend, role=role, images=images, audio=audio,
            documents=documents, user_variables=user_variables, format=format,
            model_options=model_options, tool_calls=tool_calls,
            allow_context_type_change=allow_context_type_change,
        )
    )  # fmt: skip


def validate(
    reqs: Requirement | str | Sequence[Requirement | str],
    context: Context,
    backend: Backend,
    *,
    output: CBlock | str | None = None,
    format: type[BaseModel] | None = None,
    model_options: Mapping[str, Any] | None = None,
    generate_logs: list[Any] | None = None,
    input: Component[Any] | CBlock | None = None,
) -> list[ValidationResult]:
    """Blocking `avalidate`."""
    return run_sync(
        avalidate(
            reqs, context, backend, output=output, format=format, model_options=model_options,
            generate_logs=generate_logs, input=input,
        )
    )  # fmt: skip


# Object query/transform and tool execution live in their own modules; re-exported here
# because Mellea's docs import them from `mellea.stdlib.functional`.
from .mobjects import aquery as aquery  # noqa: E402
from .mobjects import atransform as atransform  # noqa: E402
from .mobjects import query as query  # noqa: E402
from .mobjects import transform as transform  # noqa: E402
from .tool_calling import _acall_tools as _acall_tools  # noqa: E402
from .tool_calling import _call_tools as _call_tools  # noqa: E402
from .tool_calling import acall_tools as acall_tools  # noqa: E402
from .tool_calling import call_tools as call_tools  # noqa: E402

__all__ = [
    "UNSET",
    "ContextT",
    "aact",
    "acall_tools",
    "achat",
    "act",
    "ainstruct",
    "aquery",
    "atransform",
    "avalidate",
    "call_tools",
    "chat",
    "check_context_type",
    "instruct",
    "query",
    "transform",
    "validate",
]  # fmt: skip
