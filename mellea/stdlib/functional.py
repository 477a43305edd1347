"""The functional API: session operations as functions of (context, backend).

Each function takes a context and returns the result with the *new* context; nothing is
stored anywhere. `MelleaSession` is a thin stateful layer over these. The `a*` functions
are the implementation; the sync ones run them on mellea's I/O loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..core.base import CBlock, Component
from ..core.errors import InvalidOptionError
from ..core.message import Message, Role
from ..core.requirement import Requirement, ValidationResult
from ..core.sampling import SamplingResult
from ..core.thunk import ModelOutputThunk
from ..helpers.portal import run_sync
from .components.instruction import Instruction
from .requirements import avalidate_all
from .sampling.lazy import asample, sampling_strategy

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ..core.backend import Backend
    from ..core.context import Context


class _Unset:
    def __repr__(self) -> str:
        return "<default>"


UNSET: Any = _Unset()
"""`strategy=` not given: the operation's default strategy applies."""


def _check_action(action: object) -> None:
    if not isinstance(action, Component | CBlock):
        raise TypeError(f"act() takes a Component or CBlock, got {type(action).__name__}")


async def aact(
    action: Component[Any] | CBlock,
    context: Context,
    backend: Backend,
    *,
    requirements: Sequence[Requirement | str] | None = None,
    strategy: Any = UNSET,
    return_sampling_results: bool = False,
    format: type[BaseModel] | None = None,
    model_options: Mapping[str, Any] | None = None,
    tool_calls: bool = False,
    await_result: bool = False,
) -> tuple[ModelOutputThunk[Any] | SamplingResult, Context]:
    """Start `action` on `backend` given `context`; returns (thunk, new context) at once.

    The thunk is uncomputed unless `await_result=True`. With requirements or `format=`,
    a strategy (default `RejectionSamplingStrategy(loop_budget=2)`) runs the
    sample/validate/repair loop in the background behind the returned thunk (see
    `mellea.stdlib.sampling.lazy`); `return_sampling_results=True` waits for the loop and
    returns its `SamplingResult` instead.
    """
    _check_action(action)
    sampler = sampling_strategy(
        requirements, None if strategy is UNSET else strategy, default=strategy is UNSET,
        format=format, return_results=return_sampling_results,
    )  # fmt: skip
    if sampler is not None:
        return await asample(
            sampler, action, context, backend, requirements=requirements,
            return_sampling_results=return_sampling_results, format=format,
            model_options=model_options, tool_calls=tool_calls, await_result=await_result,
        )  # fmt: skip
    mot, new_ctx = await backend.generate_from_context(
        action, context, format=format, model_options=dict(model_options or {}),
        tool_calls=tool_calls,
    )  # fmt: skip
    if await_result:
        await mot.avalue()
    return mot, new_ctx


async def ainstruct(
    description: str,
    context: Context,
    backend: Backend,
    *,
    requirements: Sequence[Requirement | str] | None = None,
    icl_examples: Sequence[str | CBlock] | None = None,
    grounding_context: Mapping[str, str | CBlock | Component[Any]] | None = None,
    user_variables: Mapping[str, Any] | None = None,
    prefix: str | CBlock | None = None,
    output_prefix: str | CBlock | None = None,
    images: list[Any] | None = None,
    strategy: Any = UNSET,
    return_sampling_results: bool = False,
    format: type[BaseModel] | None = None,
    model_options: Mapping[str, Any] | None = None,
    tool_calls: bool = False,
    await_result: bool = False,
) -> tuple[ModelOutputThunk[Any] | SamplingResult, Context]:
    """Build an `Instruction` and `aact` it."""
    if not isinstance(description, str | CBlock):
        raise TypeError(f"instruct() takes a str description, got {type(description).__name__}")
    if isinstance(description, str) and not description.strip() and not user_variables:
        raise InvalidOptionError("instruct() needs a non-empty description")
    instruction = Instruction(
        description, requirements=requirements, icl_examples=icl_examples,
        grounding_context=grounding_context, user_variables=user_variables, prefix=prefix,
        output_prefix=output_prefix, images=images,
    )  # fmt: skip
    return await aact(
        instruction, context, backend, requirements=instruction.requirements,
        strategy=strategy, return_sampling_results=return_sampling_results, format=format,
        model_options=model_options, tool_calls=tool_calls, await_result=await_result,
    )  # fmt: skip


async def achat(
    content: str,
    context: Context,
    backend: Backend,
    *,
    role: Role = "user",
    images: list[Any] | None = None,
    user_variables: Mapping[str, Any] | None = None,
    format: type[BaseModel] | None = None,
    model_options: Mapping[str, Any] | None = None,
    tool_calls: bool = False,
) -> tuple[Message, Context]:
    """Send one chat message; returns the reply `Message` (awaited) and the new context."""
    mot, new_ctx = await aact(
        chat_message(content, role, images, user_variables), context, backend, strategy=None,
        format=format, model_options=model_options, tool_calls=tool_calls, await_result=True,
    )  # fmt: skip
    return reply_message(mot), new_ctx


def chat_message(
    content: str, role: Role, images: list[Any] | None, user_variables: Mapping[str, Any] | None
) -> Message:
    """The `Message` a chat call sends (`{{name}}` placeholders filled from user_variables)."""
    if not isinstance(content, str):
        raise TypeError(f"chat() takes a str, got {type(content).__name__}")
    if user_variables:
        from ..helpers.templating import render

        content = render(content, dict(user_variables))
    return Message(role, content, images=images)


def reply_message(mot: ModelOutputThunk[Any]) -> Message:
    """The reply of a computed chat thunk as a `Message`."""
    reply = mot.parsed_repr
    if isinstance(reply, Message):
        return reply
    return Message("assistant", mot.value or "", tool_calls=mot.tool_calls)


async def avalidate(
    reqs: Requirement | str | Sequence[Requirement | str],
    context: Context,
    backend: Backend,
    *,
    output: CBlock | str | None = None,
    input: Component[Any] | CBlock | None = None,
    format: type[BaseModel] | None = None,
    model_options: Mapping[str, Any] | None = None,
) -> list[ValidationResult]:
    """Check requirements against the last output of `context` (or `output`), concurrently.

    Results are in requirement order; a thunk still generating is waited for first.
    """
    return await avalidate_all(
        reqs, context, backend, output=output, input=input, format=format,
        model_options=model_options,
    )  # fmt: skip


def validate(*args: Any, **kwargs: Any) -> list[ValidationResult]:
    """Blocking `avalidate`."""
    return run_sync(avalidate(*args, **kwargs))


def act(*args: Any, **kwargs: Any) -> tuple[ModelOutputThunk[Any] | SamplingResult, Context]:
    """Blocking `aact` (the thunk is computed)."""
    kwargs["await_result"] = True
    return run_sync(aact(*args, **kwargs))


def instruct(*args: Any, **kwargs: Any) -> tuple[ModelOutputThunk[Any] | SamplingResult, Context]:
    """Blocking `ainstruct` (the thunk is computed)."""
    kwargs["await_result"] = True
    return run_sync(ainstruct(*args, **kwargs))


def chat(*args: Any, **kwargs: Any) -> tuple[Message, Context]:
    """Blocking `achat`."""
    return run_sync(achat(*args, **kwargs))


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
    "UNSET", "aact", "achat", "act", "ainstruct", "avalidate", "chat", "instruct", "validate",
]  # fmt: skip
