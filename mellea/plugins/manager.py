"""The plugin system's process-wide state, under the reference's function names.

There is no separate manager object to start: registering the first hook activates the
system (`mellea.core.hooks.active` becomes non-empty) and removing the last one makes
every hook point free again.
"""

from __future__ import annotations

from typing import Any, TypeVar

from ..core import hooks as core_hooks
from . import _runner, _table
from .base import MelleaBasePayload, MelleaPlugin
from .results import PluginResult
from .types import HookType

__all__ = [
    "DEFAULT_PLUGIN_TIMEOUT",
    "PluginManager",
    "deregister_session_plugins",
    "disable_background_collection",
    "discard_background_tasks",
    "drain_background_tasks",
    "enable_background_collection",
    "ensure_plugin_manager",
    "get_plugin_manager",
    "has_plugins",
    "initialize_plugins",
    "invoke_hook",
    "is_internal_tool",
    "shutdown_plugins",
    "track_session_plugin",
]

DEFAULT_PLUGIN_TIMEOUT = 5
"""Seconds one hook may run before it is abandoned (see `initialize_plugins`)."""

_session_names: dict[str, set[str]] = {}

PayloadT = TypeVar("PayloadT", bound=MelleaBasePayload)


def is_internal_tool(tool_name: str) -> bool:
    """True for mellea's control-flow tools (ReAct's `final_answer`)."""
    from ..core.hooks.tool import INTERNAL_TOOLS

    return tool_name in INTERNAL_TOOLS


def has_plugins(hook_type: HookType | str | None = None) -> bool:
    """True if any hook is registered (on `hook_type`, when given)."""
    if hook_type is None:
        return bool(core_hooks.active)
    return str(hook_type) in core_hooks.active


async def invoke_hook(
    hook_type: HookType | str,
    payload: PayloadT,
    *,
    backend: Any = None,
    **context_fields: Any,
) -> tuple[PluginResult[PayloadT] | None, PayloadT]:
    """Run the hooks on `hook_type`: `(result, payload)` — result None if none ran.

    Raises `PluginViolationError` if a hook blocks. The library fires its hook points
    through `mellea.core.hooks.dispatch`; this is the same, for code of your own.
    """
    if str(hook_type) not in core_hooks.active:
        return None, payload
    context = dict(context_fields, backend=backend)
    if not payload.hook:
        payload = payload.model_copy(update={"hook": str(hook_type)})
    after: PayloadT = await _runner.run_hooks(str(hook_type), payload, context)
    return PluginResult(modified_payload=after if after is not payload else None), after


class PluginManager:
    """A view of the registry (kept for code written against the reference's manager)."""

    def has_hooks_for(self, hook_type: str) -> bool:
        """True if a hook is registered on `hook_type`."""
        return str(hook_type) in core_hooks.active

    def hook_names(self) -> list[str]:
        """The plugin names registered, in running order per hook point."""
        return [e.plugin_name for e in _table.all_entries()]

    async def invoke_hook(self, hook_type: str, payload: Any, **context: Any) -> Any:
        """`mellea.plugins.manager.invoke_hook`."""
        return await invoke_hook(hook_type, payload, **context)


_manager = PluginManager()


def get_plugin_manager() -> PluginManager | None:
    """The manager view, or None while no hook is registered."""
    return _manager if core_hooks.active else None


def ensure_plugin_manager() -> PluginManager:
    """The manager view (nothing needs starting)."""
    return _manager


async def initialize_plugins(
    config_path: str | None = None,
    *,
    timeout: int = DEFAULT_PLUGIN_TIMEOUT,
) -> PluginManager:
    """Set the per-hook timeout (seconds). Plugins are registered in code, not from files:
    a `config_path` is refused."""
    if config_path:
        raise NotImplementedError(
            "plugin configuration files are not supported; register plugins in code "
            "(register(...), start_session(plugins=[...]))"
        )
    _runner.HOOK_TIMEOUT_S = float(timeout)
    return _manager


async def shutdown_plugins() -> None:
    """Remove every hook (calling `MelleaPlugin.shutdown()`) and forget session tags."""
    removed = _table.reset()
    await _shutdown(removed)
    _session_names.clear()
    discard_background_tasks()


async def _shutdown(removed: list[_table.Entry]) -> None:
    seen: set[int] = set()
    for entry in removed:
        owner = entry.owner
        if isinstance(owner, MelleaPlugin) and id(owner) not in seen:
            seen.add(id(owner))
            await owner.shutdown()


def track_session_plugin(session_id: str, plugin_name: str) -> None:
    """Note that `plugin_name` belongs to `session_id` (registration already records it)."""
    _session_names.setdefault(session_id, set()).add(plugin_name)


def deregister_session_plugins(session_id: str) -> None:
    """Remove every hook registered for a session (or a `with` block's scope id)."""
    _session_names.pop(session_id, None)
    removed = _table.remove_scope(session_id)
    if any(isinstance(e.owner, MelleaPlugin) for e in removed):
        from .registry import _lifecycle

        _lifecycle(_shutdown(removed))


def enable_background_collection() -> None:
    """Start keeping a `PluginResult` per fire-and-forget dispatch (for tests)."""
    if _runner._collect is None:
        _runner._collect = []


def disable_background_collection() -> None:
    """Stop keeping fire-and-forget results, and drop those kept."""
    _runner._collect = None


async def drain_background_tasks() -> None:
    """Wait for every fire-and-forget hook started so far (tests call this before asserting)."""
    await _runner.drain_background()
    if _runner._collect is not None:
        _runner._collect.clear()


def discard_background_tasks() -> None:
    """Forget the collected fire-and-forget results without waiting for them."""
    if _runner._collect is not None:
        _runner._collect.clear()
