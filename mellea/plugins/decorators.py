"""`@hook`: mark an async function (or a `Plugin` method) as a hook on one hook point."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .types import HookType, PluginMode

__all__ = ["DEFAULT_PRIORITY", "HookMeta", "hook"]

DEFAULT_PRIORITY = 50
"""The priority of a hook that sets none (lower runs first)."""

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class HookMeta:
    """What `@hook` records on a function: its hook point, mode and priority (None: the
    `Plugin` class's priority, else `DEFAULT_PRIORITY`)."""

    hook_type: str
    mode: PluginMode = PluginMode.SEQUENTIAL
    priority: int | None = None


def hook(
    hook_type: str,
    *,
    mode: PluginMode = PluginMode.SEQUENTIAL,
    priority: int | None = None,
) -> Callable[[F], F]:
    """Mark `async def fn(payload, ctx)` as a hook on `hook_type`; `register(fn)` activates it.

    `fn` returns None (continue), `modify(payload, ...)` or `block(reason, ...)`.
    An unknown hook point is a `ValueError` and a non-async function a `TypeError`, here
    rather than silently later.
    """
    name = str(HookType(hook_type))
    meta = HookMeta(name, PluginMode(mode), priority)

    def mark(fn: F) -> F:
        if not inspect.iscoroutinefunction(fn):
            raise TypeError(
                f"@hook function {getattr(fn, '__qualname__', fn)!r} must be `async def`"
            )
        fn._mellea_hook_meta = meta  # type: ignore[attr-defined]  # read back by register()
        return fn

    return mark
