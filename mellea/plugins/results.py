"""What a hook returns: `PluginResult` (continue, modify or block), and its helpers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = ["PluginResult", "PluginViolation", "block", "modify"]

T = TypeVar("T")


@dataclass
class PluginViolation:
    """Why a hook blocked: `reason` (for people), `code` (for programs), `details`.

    `plugin_name` is filled in by the dispatcher with the blocking hook's plugin.
    """

    reason: str
    description: str = ""
    code: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    plugin_name: str = ""


@dataclass
class PluginResult(Generic[T]):
    """A hook's answer. Returning None is the same as `PluginResult()` (continue).

    - `continue_processing=False` with a `violation` blocks the operation (`block()`);
    - `modified_payload` proposes a new payload (`modify()`); only the hook point's
      writable fields are taken from it, in SEQUENTIAL and TRANSFORM modes;
    - `metadata` is free-form; `background_tasks` holds fire-and-forget tasks when the
      result comes from `mellea.plugins.manager.invoke_hook`.
    """

    continue_processing: bool = True
    modified_payload: T | None = None
    violation: PluginViolation | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    background_tasks: list[Any] = field(default_factory=list)

    async def wait_for_background_tasks(self) -> list[BaseException]:
        """Wait for this result's fire-and-forget hooks; returns the errors they logged."""
        errors: list[BaseException] = []
        for future in self.background_tasks:
            try:
                error = await asyncio.wrap_future(future)
            except asyncio.CancelledError as exc:
                error = exc
            if isinstance(error, BaseException):
                errors.append(error)
        return errors


def block(
    reason: str,
    *,
    code: str = "",
    description: str = "",
    details: dict[str, Any] | None = None,
) -> PluginResult[Any]:
    """A result that blocks the operation: the caller gets `PluginViolationError`."""
    violation = PluginViolation(reason, description or reason, code, dict(details or {}))
    return PluginResult(continue_processing=False, violation=violation)


def modify(payload: Any, **field_updates: Any) -> PluginResult[Any]:
    """A result proposing `payload` with `field_updates` (only writable fields are taken)."""
    return PluginResult(modified_payload=payload.model_copy(update=field_updates))
