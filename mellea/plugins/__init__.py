"""Plugins: functions that observe mellea's execution at its hook points.

```python
from mellea.plugins import hook, register

@hook("streaming_event")
async def show(payload, ctx):
    print(payload.event)

register(show)
```

What exists so far is the mechanism's core (`@hook`, `register`/`unregister`, the
execution modes, priorities) and the streaming hook points (`streaming_start`,
`streaming_event`, `streaming_end`, fired by `mellea.stdlib.streaming.stream`).
"""

from .decorators import hook
from .registry import register, unregister
from .types import HookType, PluginMode

__all__ = ["HookType", "PluginMode", "hook", "register", "unregister"]
