"""A response cache for any chat backend: `CachedBackend(backend, store=...)`.

```python
from mellea import MelleaSession
from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.response_cache import CachedBackend, SQLiteStore

backend = CachedBackend(OllamaModelBackend("granite4:micro"),
                        store=SQLiteStore("~/.cache/mellea/responses.sqlite3"))
m = MelleaSession(backend)
```

Calls with temperature 0 or a seed are keyed on the request as the engine would send it
(backend kind, model, rendered messages — or, for `generate_from_raw`, each prompt as
sent — sampling options, `format=` schema, tools) and
served from the store when seen before — replayed as a stream with the original chunk
boundaries. Identical calls in flight at once share one request. See `CachedBackend`.
"""

from __future__ import annotations

from ._backend import CachedBackend, CacheLayer, CacheOutcome, CacheStats, is_deterministic
from ._key import canonical, canonical_json, describe_call, request_key
from ._memory import CacheStore, MemoryStore
from ._response import CachedResponse, Capture
from ._sqlite import SQLiteStore

__all__ = [
    "CacheLayer",
    "CacheOutcome",
    "CacheStats",
    "CacheStore",
    "CachedBackend",
    "CachedResponse",
    "Capture",
    "MemoryStore",
    "SQLiteStore",
    "canonical",
    "canonical_json",
    "describe_call",
    "is_deterministic",
    "request_key",
]
