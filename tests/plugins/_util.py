"""Helpers of the plugin tests: a recorder hook and a session on the loopback server."""

from __future__ import annotations

from typing import Any

from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.openai import OpenAIBackend
from mellea.plugins import PluginMode, hook
from mellea.stdlib.context import SimpleContext
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer


def recorder(
    *points: str, mode: PluginMode = PluginMode.SEQUENTIAL
) -> tuple[list[tuple[str, Any]], list[Any]]:
    """Hooks appending `(hook_type, payload)` to a list, on every point given."""
    seen: list[tuple[str, Any]] = []
    fns = []
    for point in points:

        @hook(point, mode=mode)
        async def record(payload: Any, ctx: Any, point: str = point) -> None:
            seen.append((point, payload))

        record.__qualname__ = f"record_{point}"
        fns.append(record)
    return seen, fns


def session(srv: LoopbackServer, kind: str = "ollama", **kw: Any) -> MelleaSession:
    if kind == "openai":
        backend: Any = OpenAIBackend("m", base_url=srv.openai_base_url, api_key="k", **kw)
    else:
        backend = OllamaModelBackend("m", base_url=srv.url, **kw)
    return MelleaSession(backend, SimpleContext())
