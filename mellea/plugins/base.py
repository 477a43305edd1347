"""Plugin classes: `Plugin` (hooks sharing state) and `MelleaPlugin` (config-driven).

```python
class PIIRedactor(Plugin, name="pii-redactor", priority=5):
    @hook(HookType.COMPONENT_PRE_EXECUTE)
    async def redact_input(self, payload, ctx): ...

with PIIRedactor():            # or register(PIIRedactor()), start_session(plugins=[...])
    m.instruct("...")
```
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..core.errors import PluginViolationError
from ..core.hooks._base import MelleaBasePayload
from .decorators import DEFAULT_PRIORITY
from .results import PluginResult
from .types import PluginMode

if TYPE_CHECKING:
    from typing import Self

    from ..core.backend import Backend
    from ..core.context import Context

__all__ = [
    "MelleaBasePayload",
    "MelleaPlugin",
    "Plugin",
    "PluginConfig",
    "PluginMeta",
    "PluginResult",
    "PluginViolationError",
]


@dataclass(frozen=True)
class PluginMeta:
    """A `Plugin` subclass's name (what violations and logs call it) and default priority."""

    name: str
    priority: int = DEFAULT_PRIORITY


class _Scoped:
    """`with plugin:` / `async with plugin:` — registered for the block, removed after.

    One instance can be active in one block at a time (a second, overlapping `with` on
    the same instance is a `RuntimeError`: use another instance).
    """

    _scope_id: str | None = None

    def _label(self) -> str:
        return type(self).__name__

    def _scoped_items(self) -> Any:
        """What the block registers (the instance itself; `plugin_scope` its items)."""
        return self

    def __enter__(self) -> Self:
        if self._scope_id is not None:
            raise RuntimeError(
                f"{self._label()} is already active in a `with` block; "
                "use a separate instance for overlapping scopes"
            )
        from .registry import register_scoped

        self._scope_id = f"scope-{uuid.uuid4().hex}"
        register_scoped(self._scoped_items(), self._scope_id)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        scope_id, self._scope_id = self._scope_id, None
        if scope_id is not None:
            from .manager import deregister_session_plugins

            deregister_session_plugins(scope_id)

    async def __aenter__(self) -> Self:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)


class Plugin(_Scoped):
    """Base of class-based plugins: `@hook` methods sharing the instance's state.

    Name and default priority are class keywords (`class P(Plugin, name="p",
    priority=10)`); a method's own `@hook(priority=...)` wins over the class's, and a
    `PluginSet(priority=...)` over both.
    """

    _mellea_plugin_meta: PluginMeta

    def __init_subclass__(cls, *, name: str = "", priority: int | None = None, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        inherited = getattr(cls, "_mellea_plugin_meta", None)
        cls._mellea_plugin_meta = PluginMeta(
            name or cls.__name__,
            priority if priority is not None else (inherited.priority if inherited else 50),
        )

    def _label(self) -> str:
        return f"plugin {type(self)._mellea_plugin_meta.name!r}"


@dataclass
class PluginConfig:
    """A `MelleaPlugin`'s configuration: which hook points its same-named methods handle.

    `hooks` — hook point names (the plugin's method of that name handles each);
    `mode`, `priority` — for all of them; `config` — free-form settings for the plugin.
    """

    name: str
    hooks: list[str] = field(default_factory=list)
    mode: PluginMode | str = PluginMode.SEQUENTIAL
    priority: int = DEFAULT_PRIORITY
    config: dict[str, Any] | None = None
    kind: str = ""
    description: str = ""


class MelleaPlugin(_Scoped):
    """A plugin configured by a `PluginConfig` (the ContextForge-framework style).

    Each name in `config.hooks` is handled by the method of that name, with the
    config's mode and priority. `initialize()` runs when it is registered and
    `shutdown()` when it is removed (both async, no-ops by default; make them
    idempotent). `get_backend(ctx)`, `get_session(ctx)`, `get_mellea_context(ctx)` read
    the hook's context.
    """

    def __init__(
        self,
        config: PluginConfig | Any,
        hook_payloads: dict[str, Any] | None = None,
        hook_results: dict[str, Any] | None = None,
    ) -> None:
        self._config = config
        self._hook_payloads = dict(hook_payloads or {})
        self._hook_results = dict(hook_results or {})

    @property
    def name(self) -> str:
        """The configured name."""
        return str(self._config.name)

    @property
    def plugin_config(self) -> dict[str, Any]:
        """The free-form settings of the configuration (`config.config`)."""
        return dict(getattr(self._config, "config", None) or {})

    @property
    def config(self) -> Any:
        """The whole configuration."""
        return self._config

    def _label(self) -> str:
        return f"plugin {self.name!r}"

    async def initialize(self) -> None:
        """Called when the plugin is registered."""

    async def shutdown(self) -> None:
        """Called when the plugin is removed."""

    def get_backend(self, context: Any) -> Backend | None:
        """The backend of the operation the hook fired for (None if there is none)."""
        backend: Backend | None = _state(context).get("backend")
        return backend

    def get_mellea_context(self, context: Any) -> Context | None:
        """The mellea `Context` passed to the hook's context, if any."""
        value: Context | None = _state(context).get("context")
        return value

    def get_session(self, context: Any) -> Any:
        """The `MelleaSession` passed to the hook's context, if any."""
        return _state(context).get("session")


def _state(context: Any) -> Any:
    global_context = getattr(context, "global_context", context)
    state = getattr(global_context, "state", None)
    return state if state is not None else {}
