"""mellea: generative programming — call LLMs as lazy, typed, concurrent Python functions.

```python
import mellea

m = mellea.start_session()
thunk = await m.ainstruct("Write a haiku about concurrency.")
print(await thunk.avalue())
```
Heavy modules (HTTP clients, engines, pydantic) load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_getattr

__version__ = "0.1.0"

_EXPORTS = {
    "start_session": "mellea.stdlib.session:start_session",
    "MelleaSession": "mellea.stdlib.session:MelleaSession",
    "get_session": "mellea.stdlib.session:get_session",
    "ModelOutputThunk": "mellea.core.thunk:ModelOutputThunk",
    "CBlock": "mellea.core.base:CBlock",
    "Component": "mellea.core.base:Component",
    "ModelOption": "mellea.backends.model_options:ModelOption",
    "model_ids": "mellea.backends.model_ids",
    "MelleaError": "mellea.core.errors:MelleaError",
    "generative": "mellea.stdlib.components.genstub:generative",
}

__getattr__ = lazy_getattr(__name__, _EXPORTS)
__all__ = [*_EXPORTS, "__version__"]

if TYPE_CHECKING:
    from .backends import model_ids as model_ids
    from .backends.model_options import ModelOption as ModelOption
    from .core.base import CBlock as CBlock
    from .core.base import Component as Component
    from .core.errors import MelleaError as MelleaError
    from .core.thunk import ModelOutputThunk as ModelOutputThunk
    from .stdlib.components.genstub import generative as generative
    from .stdlib.session import MelleaSession as MelleaSession
    from .stdlib.session import get_session as get_session
    from .stdlib.session import start_session as start_session


def _telemetry_if_asked() -> None:
    # The switches of mellea.telemetry._config.SWITCHES, read without importing it: with
    # telemetry off, `import mellea` loads nothing of it (nor of OpenTelemetry).
    import os

    names = ("MELLEA_TRACES_ENABLED", "MELLEA_METRICS_ENABLED", "MELLEA_LOGS_OTLP")
    if any(os.environ.get(n, "").strip().lower() in ("1", "true", "yes", "on") for n in names):
        from .telemetry._setup import setup_from_env

        setup_from_env()


_telemetry_if_asked()
