"""Registering hooks and firing them.

`register(fn)` adds `@hook`-marked functions globally (or for one session with
`session_id=`); `invoke_hook(hook_type, payload)` runs the hooks of one hook point in
priority order. With nothing registered it returns at once, so the hot paths pay one
dict lookup.

This is the small core the hook points of streaming validation need: observation
hooks. A hook's exception is logged, never raised into the call, except in
`SEQUENTIAL`/`TRANSFORM`/`AUDIT`/`CONCURRENT` modes where it propagates as the
docs' table says; `FIRE_AND_FORGET` hooks run as background tasks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from .decorators import HookMeta
from .types import PluginMode

__all__ = ["has_plugins", "invoke_hook", "register", "unregister"]

logger = logging.getLogger("mellea.plugins")

_Hook = tuple[HookMeta, Callable[..., Any], str | None]  # meta, function, session id
_hooks: dict[str, list[_Hook]] = {}
_background: set[asyncio.Task[Any]] = set()


def _items(items: Any) -> Iterable[Any]:
    return items if isinstance(items, list | tuple) else [items]


def _meta(fn: Any) -> HookMeta:
    meta = getattr(fn, "_mellea_hook", None)
    if not isinstance(meta, HookMeta):
        raise TypeError(f"{fn!r} is not a hook: decorate it with @hook(...)")
    return meta


def register(items: Any, *, session_id: str | None = None) -> None:
    """Register `@hook` functions (one or a list); `session_id` limits them to a session."""
    for fn in _items(items):
        meta = _meta(fn)
        hooks = [h for h in _hooks.get(meta.hook_type, []) if h[1] is not fn]
        hooks.append((meta, fn, session_id))
        hooks.sort(key=lambda h: h[0].priority)
        _hooks[meta.hook_type] = hooks


def unregister(items: Any) -> None:
    """Remove registered hooks (unknown ones are ignored)."""
    for fn in _items(items):
        meta = _meta(fn)
        remaining = [h for h in _hooks.get(meta.hook_type, []) if h[1] is not fn]
        if remaining:
            _hooks[meta.hook_type] = remaining
        else:
            _hooks.pop(meta.hook_type, None)


def has_plugins(hook_type: str | None = None) -> bool:
    """True if any hook is registered (on `hook_type`, when given)."""
    return bool(_hooks.get(str(hook_type))) if hook_type is not None else bool(_hooks)


async def invoke_hook(
    hook_type: str, payload: Any, *, session_id: str | None = None, **context: Any
) -> None:
    """Run the hooks registered on `hook_type` with `payload` (and a read-only context)."""
    hooks = _hooks.get(str(hook_type))
    if not hooks:
        return
    ctx = dict(context, session_id=session_id)
    selected = [h for h in hooks if h[2] is None or h[2] == session_id]
    concurrent = []
    for meta, fn, _ in selected:
        if meta.mode is PluginMode.FIRE_AND_FORGET:
            task = asyncio.ensure_future(_quietly(fn, payload, ctx))
            _background.add(task)
            task.add_done_callback(_background.discard)
        elif meta.mode is PluginMode.CONCURRENT:
            concurrent.append(fn(payload, ctx))
        else:
            await fn(payload, ctx)
    if concurrent:
        await asyncio.gather(*concurrent)


async def _quietly(fn: Callable[..., Any], payload: Any, ctx: dict[str, Any]) -> None:
    try:
        await fn(payload, ctx)
    except Exception:
        logger.warning("mellea: fire-and-forget hook %r failed", fn, exc_info=True)
