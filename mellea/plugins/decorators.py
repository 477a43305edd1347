"""`@hook`: mark an async function as a plugin hook."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .types import HookType, PluginMode

__all__ = ["DEFAULT_PRIORITY", "HookMeta", "hook"]

DEFAULT_PRIORITY = 50
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class HookMeta:
    """What `@hook` recorded on a function: its hook point, mode and priority."""

    hook_type: str
    mode: PluginMode = PluginMode.SEQUENTIAL
    priority: int = DEFAULT_PRIORITY


def hook(
    hook_type: str,
    *,
    mode: PluginMode = PluginMode.SEQUENTIAL,
    priority: int | None = None,
) -> Callable[[F], F]:
    """Mark `async def fn(payload, ctx)` as a hook on `hook_type` (lower priority runs first).

    The function is registered with `register(fn)`.
    """
    name = str(HookType(hook_type))  # an unknown hook point fails here, not silently later
    meta = HookMeta(name, PluginMode(mode), DEFAULT_PRIORITY if priority is None else priority)

    def mark(fn: F) -> F:
        fn._mellea_hook = meta  # type: ignore[attr-defined]
        return fn

    return mark
