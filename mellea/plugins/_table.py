"""The hook table: every registered hook, by hook point, in the order they run.

Writers (register/unregister, from any thread) take a lock and publish new immutable
tuples; the dispatcher reads without locking. After each change the set of active hook
points is installed into `mellea.core.hooks`, so call sites of unused points stay free.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..core import hooks as core_hooks
from .types import PluginMode

__all__ = ["Entry", "add", "entries", "remove_owner", "remove_scope", "reset"]

MODE_ORDER = {
    PluginMode.SEQUENTIAL: 0,
    PluginMode.TRANSFORM: 1,
    PluginMode.AUDIT: 2,
    PluginMode.CONCURRENT: 3,
    PluginMode.FIRE_AND_FORGET: 4,
}


@dataclass(frozen=True, slots=True)
class Entry:
    """One registered hook.

    `fn(payload, ctx)` is the coroutine function (a bound method for plugin classes);
    `owner` is what was registered (a function or a plugin instance), `plugin_name` is
    what a violation names; `session_id` limits firing to payloads of that session;
    `scope_id` tags a registration made for a session or a `with` block so it can be
    removed as a unit.
    """

    hook_type: str
    fn: Callable[..., Any]
    mode: PluginMode
    priority: int
    plugin_name: str
    owner: Any
    session_id: str | None
    scope_id: str | None
    seq: int

    @property
    def sort_key(self) -> tuple[int, int, int]:
        return MODE_ORDER[self.mode], self.priority, self.seq


_lock = threading.Lock()
_table: dict[str, tuple[Entry, ...]] = {}
_seq = itertools.count()


def next_seq() -> int:
    return next(_seq)


def entries(hook_type: str) -> tuple[Entry, ...]:
    """The hooks of `hook_type`, in running order (lock-free read)."""
    return _table.get(hook_type, ())


def all_entries() -> list[Entry]:
    return [e for group in list(_table.values()) for e in group]


def _publish(changed: dict[str, list[Entry]]) -> None:
    # under _lock
    for hook_type, group in changed.items():
        if group:
            _table[hook_type] = tuple(sorted(group, key=lambda e: e.sort_key))
        else:
            _table.pop(hook_type, None)
    from ._runner import run_hooks

    core_hooks.install(run_hooks, frozenset(_table))


def add(new: Iterable[Entry]) -> None:
    """Add entries; an owner registered again on the same point and scope is replaced."""
    with _lock:
        changed: dict[str, list[Entry]] = {}
        for entry in new:
            group = changed.setdefault(entry.hook_type, list(_table.get(entry.hook_type, ())))
            group[:] = [
                e
                for e in group
                if not (
                    e.owner == entry.owner
                    and e.fn == entry.fn
                    and e.session_id == entry.session_id
                    and e.scope_id == entry.scope_id
                )
            ]
            group.append(entry)
        _publish(changed)


def _remove(keep: Callable[[Entry], bool]) -> list[Entry]:
    with _lock:
        removed: list[Entry] = []
        changed: dict[str, list[Entry]] = {}
        for hook_type, group in _table.items():
            kept = [e for e in group if keep(e)]
            if len(kept) != len(group):
                removed += [e for e in group if not keep(e)]
                changed[hook_type] = kept
        if changed:
            _publish(changed)
        return removed


def remove_owner(owner: Any) -> list[Entry]:
    """Remove every hook registered for `owner` (in any scope)."""
    return _remove(lambda e: not (e.owner is owner or e.owner == owner))


def remove_scope(scope_id: str) -> list[Entry]:
    """Remove every hook registered under `scope_id` (a session or a `with` block)."""
    return _remove(lambda e: e.scope_id != scope_id)


def reset() -> list[Entry]:
    """Remove every hook."""
    return _remove(lambda e: False)
