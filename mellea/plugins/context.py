"""The `ctx` argument of every hook: read-only facts about where the hook fired."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

__all__ = ["PluginContext", "build_global_context"]


class PluginContext(Mapping[str, Any]):
    """Read-only context of one hook call (a mapping, with attribute access too).

    - `hook_type`; `backend` — the backend involved, if any; `backend_name` and
      `model_id` — its provider and model (None without a backend);
    - whatever else the call site passed (`ctx["session"]`, ...);
    - `global_context.state` — the same mapping (the layout of plugins written for the
      ContextForge framework: `ctx.global_context.state.get("backend")`).
    """

    __slots__ = ("_state", "hook_type")

    def __init__(self, hook_type: str, state: Mapping[str, Any]) -> None:
        self.hook_type = hook_type
        self._state: Mapping[str, Any] = MappingProxyType(dict(state))

    def __getitem__(self, key: str) -> Any:
        return self._state[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._state)

    def __len__(self) -> int:
        return len(self._state)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._state.get(name)

    @property
    def state(self) -> Mapping[str, Any]:
        """Everything in this context, as a read-only mapping."""
        return self._state

    @property
    def global_context(self) -> PluginContext:
        """This context (for plugins that read `ctx.global_context.state`)."""
        return self

    @property
    def request_id(self) -> str:
        """The request id of the payload being dispatched ("" when unknown)."""
        value = self._state.get("request_id")
        return value if isinstance(value, str) else ""

    def __repr__(self) -> str:
        shown = {k: v for k, v in self._state.items() if k != "backend"}
        return f"PluginContext({self.hook_type!r}, {shown!r})"


def build_global_context(*, backend: Any = None, **extra_fields: Any) -> PluginContext:
    """The context hooks receive: `backend` with its provider and model, plus `extra_fields`."""
    state: dict[str, Any] = {"backend": backend, "backend_name": None, "model_id": None}
    if backend is not None:
        state["backend_name"] = getattr(backend, "provider", None) or type(backend).__name__
        state["model_id"] = getattr(backend, "model_id", None)
    state.update(extra_fields)
    return PluginContext(str(extra_fields.get("hook_type", "")), state)
