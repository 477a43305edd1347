"""Plugins: code that observes, changes or stops mellea's work at its hook points.

```python
from mellea.plugins import HookType, block, hook, register

@hook(HookType.GENERATION_PRE_CALL)
async def no_gpt4(payload, ctx):
    if "gpt-4" in str(payload.model):
        return block("GPT-4 is not allowed here", code="MODEL_POLICY")

register(no_gpt4)
```

- `@hook(point, mode=, priority=)` on `async def fn(payload, ctx)`; `Plugin` subclasses
  group hooks sharing state; `PluginSet` bundles them.
- `register(x)` (global), `register(x, session_id=...)` / `start_session(plugins=[x])`
  (one session), `plugin_scope(x)` / `with x:` (one block); `unregister(x)`.
- A hook returns None, `modify(payload, field=...)` (writable fields only, see
  `policies`) or `block(reason, code=...)`, which raises `PluginViolationError` from the
  operation; nothing it guarded happens.
- Modes (`PluginMode`): SEQUENTIAL, TRANSFORM, AUDIT, CONCURRENT, FIRE_AND_FORGET.
- The hook points and their payloads: `HookType`, `mellea.plugins.hooks`.

Nothing here costs anything until the first hook is registered. Built-in debug
loggers: `mellea.plugins.builtin_debug`.
"""

from ..core.errors import PluginViolationError
from .base import MelleaPlugin, Plugin, PluginConfig
from .decorators import hook
from .manager import is_internal_tool
from .pluginset import PluginSet
from .registry import plugin_scope, register, unregister
from .results import PluginResult, PluginViolation, block, modify
from .types import HookType, PluginMode

__all__ = [
    "HookType",
    "MelleaPlugin",
    "Plugin",
    "PluginConfig",
    "PluginMode",
    "PluginResult",
    "PluginSet",
    "PluginViolation",
    "PluginViolationError",
    "block",
    "hook",
    "is_internal_tool",
    "modify",
    "plugin_scope",
    "register",
    "unregister",
]
