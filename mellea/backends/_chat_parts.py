"""Pieces of `ChatBackend`'s call path: input checks, waiting for the thunks a prompt
depends on, and the plain-completion call (`RawCall`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.backend import generate_walk
from ..core.errors import BackendError, InvalidOptionError, MelleaError
from .formatter import ChatMessage
from .model_options import ResolvedOptions

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ..core.base import CBlock, Component
    from ..core.context import ContextItem
    from ..core.thunk import ModelOutputThunk


@dataclass
class RawCall:
    """One plain completion: the prompt text as is (no chat template, no history)."""

    prompt: str
    options: ResolvedOptions
    format: type[BaseModel] | None = None
    json_schema: dict[str, Any] | None = None

    @property
    def tools(self) -> dict[str, Any]:
        """None: a plain completion offers no tools (call layers read this of any call)."""
        return {}


class NoGate:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc_info: object) -> None:
        return None


NO_GATE = NoGate()


def check_format(format: object) -> None:
    from pydantic import BaseModel

    if not (isinstance(format, type) and issubclass(format, BaseModel)):
        raise InvalidOptionError(
            f"format= must be a pydantic BaseModel subclass (the output's type), got {format!r}"
        )


def check_prompt(messages: list[ChatMessage]) -> None:
    """An all-empty prompt would make the model answer nothing in particular: refuse it."""
    for message in messages:  # (no generator expression: it runs on every call)
        get = message.get
        if get("content") or get("images") or get("audio") or get("tool_calls"):
            return
    raise InvalidOptionError(
        "the prompt is empty: there is nothing to send to the model (an empty instruction, "
        "chat message or action?)"
    )


def pending_inputs(
    history: Sequence[ContextItem], action: Component[Any] | CBlock
) -> list[ModelOutputThunk[Any]]:
    """The unfinished thunks the prompt depends on (earlier turns, composed inputs)."""
    if not history:
        return generate_walk(action)
    return [t for item in (*history, action) for t in generate_walk(item)]


async def wait_for_inputs(history: Sequence[ContextItem], action: Component[Any] | CBlock) -> None:
    """Wait for unfinished thunks the prompt depends on (earlier turns, composed inputs).

    This is what keeps overlapping requests on a `ChatContext` correct: a turn waits for
    the previous turn's reply before its history is rendered.
    """
    pending = pending_inputs(history, action)
    if pending:
        await wait_for(pending)


async def wait_for(pending: list[ModelOutputThunk[Any]]) -> None:
    """Wait for each of `pending`; one that failed fails the request (`BackendError`)."""
    for dependency in pending:
        if dependency.is_computed():
            continue
        try:
            await dependency._wait_quietly()
        except MelleaError as exc:
            raise BackendError(
                f"this request depends on an earlier generation that failed: {exc}"
            ) from exc
        if not dependency.is_computed():
            raise BackendError(
                f"this request depends on an earlier generation that failed: {dependency.error}"
            )


__all__ = [
    "NO_GATE",
    "RawCall",
    "check_format",
    "check_prompt",
    "pending_inputs",
    "wait_for",
    "wait_for_inputs",
]
