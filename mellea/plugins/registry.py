"""Registering hooks: `register`, `unregister`, `plugin_scope`.

Three scopes (see the plugins page): global (`register(x)`), a session
(`register(x, session_id=...)`, which `start_session(plugins=[...])` does: those hooks fire
only for that session's operations and are removed when it ends), and a `with` block
(`plugin_scope(...)`, or a `Plugin`/`PluginSet` instance used as a context manager:
registered on entry, removed on exit even if the block raises).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from .._runtime.portal import get_portal, run_sync
from . import _table
from .base import MelleaPlugin, Plugin, _Scoped
from .decorators import DEFAULT_PRIORITY, HookMeta
from .pluginset import PluginSet
from .results import block, modify
from .types import HookType, PluginMode

__all__ = ["block", "modify", "plugin_scope", "register", "register_scoped", "unregister"]

logger = logging.getLogger("mellea.plugins")

Item = Callable[..., Any] | Any | PluginSet


def _flatten(items: Item | list[Item]) -> Iterator[tuple[Any, int | None]]:
    for item in items if isinstance(items, list | tuple) else [items]:
        if isinstance(item, PluginSet):
            yield from item.flatten()
        else:
            yield item, None


def _function_name(fn: Any) -> str:
    module = getattr(fn, "__module__", None) or ""
    qualname = getattr(fn, "__qualname__", None) or repr(fn)
    return f"{module}.{qualname}" if module else qualname


def _entries(
    item: Any, priority_override: int | None, session_id: str | None, scope_id: str | None
) -> list[_table.Entry]:
    def entry(
        fn: Callable[..., Any], hook_type: str, mode: PluginMode, priority: int, name: str
    ) -> _table.Entry:
        return _table.Entry(
            str(HookType(hook_type)), fn, PluginMode(mode),
            priority if priority_override is None else priority_override,
            name, item, session_id, scope_id, _table.next_seq(),
        )  # fmt: skip

    meta = getattr(item, "_mellea_hook_meta", None)
    if isinstance(meta, HookMeta) and callable(item):
        priority = meta.priority if meta.priority is not None else DEFAULT_PRIORITY
        return [entry(item, meta.hook_type, meta.mode, priority, _function_name(item))]
    if isinstance(item, Plugin):
        plugin_meta = type(item)._mellea_plugin_meta
        found = []
        for attr in dir(type(item)):
            method_meta = getattr(getattr(type(item), attr, None), "_mellea_hook_meta", None)
            if isinstance(method_meta, HookMeta):
                priority = (
                    method_meta.priority if method_meta.priority is not None
                    else plugin_meta.priority
                )  # fmt: skip
                found.append(
                    entry(getattr(item, attr), method_meta.hook_type, method_meta.mode,
                          priority, plugin_meta.name)
                )  # fmt: skip
        if not found:
            logger.warning("plugin %r has no @hook methods; nothing registered", plugin_meta.name)
        return found
    if isinstance(item, MelleaPlugin):
        config = item.config
        hooks = [str(h) for h in getattr(config, "hooks", None) or []]
        mode = PluginMode(getattr(config, "mode", PluginMode.SEQUENTIAL) or "sequential")
        priority = int(getattr(config, "priority", None) or DEFAULT_PRIORITY)
        missing = [h for h in hooks if not callable(getattr(item, h, None))]
        if missing:
            raise TypeError(f"plugin {item.name!r} has no method for hook(s) {missing}")
        return [entry(getattr(item, h), h, mode, priority, item.name) for h in hooks]
    raise TypeError(
        f"cannot register {item!r}: expected an @hook function, a Plugin or MelleaPlugin "
        "instance, a PluginSet, or a list of those"
    )


def _add(items: Item | list[Item], session_id: str | None, scope_id: str | None) -> None:
    new: list[_table.Entry] = []
    started: list[MelleaPlugin] = []
    for item, priority in _flatten(items):
        new += _entries(item, priority, session_id, scope_id)
        if isinstance(item, MelleaPlugin):
            started.append(item)
    _table.add(new)
    for plugin in started:
        _lifecycle(plugin.initialize())


def _lifecycle(coro: Any) -> None:
    """Run a MelleaPlugin's initialize()/shutdown() (in the background on mellea's loop)."""
    portal = get_portal()
    if portal.on_portal_thread():
        portal.spawn(coro)
    else:
        run_sync(coro)


def register(
    items: Item | list[Item],
    *,
    session_id: str | None = None,
) -> None:
    """Register hooks, plugins or sets globally, or for one session (`session_id`).

    Session hooks fire only for operations of that session and are removed when it ends
    (`deregister_session_plugins`). Registering the same item again on the same scope
    replaces it.
    """
    _add(items, session_id, session_id)


def register_scoped(items: Item | list[Item], scope_id: str) -> None:
    """Register for every operation, removable as a unit by `scope_id` (`with` blocks)."""
    _add(items, None, scope_id)


def unregister(items: Item | list[Item]) -> None:
    """Remove registered hooks, plugins or sets (unknown ones are ignored)."""
    for item, _ in _flatten(items):
        removed = _table.remove_owner(item)
        if removed and isinstance(item, MelleaPlugin):
            _lifecycle(item.shutdown())


class _PluginScope(_Scoped):
    """What `plugin_scope()` returns: registers on entry, removes on exit (sync or async)."""

    def __init__(self, items: list[Item]) -> None:
        self._items = items

    def _label(self) -> str:
        return "this plugin_scope"

    def _scoped_items(self) -> list[Item]:
        return self._items


def plugin_scope(*items: Item | list[Item]) -> _PluginScope:
    """Activate `items` (hooks, plugins, sets; as arguments or one list) for a `with` block."""
    flat: list[Item] = []
    for item in items:
        flat += list(item) if isinstance(item, list | tuple) else [item]
    return _PluginScope(flat)
