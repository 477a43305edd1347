"""`start_session`: pick a backend by name (or by what is reachable) and wrap it in a session.

No backend module is imported until it is chosen, so a session on one engine never loads
the others.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core.context import Context
    from .session import MelleaSession

logger = logging.getLogger("mellea")

_BACKENDS = {
    "ollama": ("mellea.backends.ollama", "OllamaModelBackend"),
    "openai": ("mellea.backends.openai", "OpenAIBackend"),
    "litellm": ("mellea.backends.litellm", "LiteLLMBackend"),
    "local": ("mellea.backends.local", "LocalBackend"),
}
_UNSUPPORTED = {
    "hf": "the Hugging Face backend is not part of this implementation; use 'local' (GGUF "
    "models in-process) or serve the model with vLLM and use 'openai'",
    "watsonx": "use 'litellm' with a watsonx/... model id, or 'openai' with its endpoint",
}
_auto_choice_logged = False


def _ollama_reachable(timeout: float = 0.5) -> str | None:
    """The Ollama base URL if a server answers `/api/version` there, else None."""
    import http.client
    import json
    from urllib.parse import urlsplit

    from ..backends.ollama import ollama_base_url

    base = ollama_base_url()
    parts = urlsplit(base)
    conn_cls = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    conn = conn_cls(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        conn.request("GET", parts.path + "/api/version")
        response = conn.getresponse()
        ok = response.status == 200 and "version" in json.loads(response.read() or b"{}")
    except (OSError, ValueError, http.client.HTTPException):
        ok = False
    finally:
        conn.close()
    return base if ok else None


def _choose_default_backend() -> str:
    global _auto_choice_logged
    import os

    # An explicit switch (e.g. MELLEA_BACKEND=openai + OPENAI_BASE_URL) beats auto-detection,
    # so unchanged programs calling start_session() can target any server.
    forced = os.environ.get("MELLEA_BACKEND", "").strip().lower()
    if forced:
        if forced not in _BACKENDS:
            raise ValueError(f"MELLEA_BACKEND={forced!r}; choose one of {', '.join(_BACKENDS)}")
        return forced
    base = _ollama_reachable()
    name = "ollama" if base else "local"
    if not _auto_choice_logged:
        _auto_choice_logged = True
        if base:
            logger.info("using the Ollama server at %s", base)
        else:
            logger.info("no Ollama server reachable; using the embedded local model")
    return name


def start_session(
    backend_name: str | None = None,
    model_id: Any = None,
    ctx: Context | None = None,
    *,
    model_options: Mapping[str, Any] | None = None,
    **backend_kwargs: Any,
) -> MelleaSession:
    """A session with a backend chosen by name.

    `backend_name`: "ollama", "openai", "litellm" or "local"; None uses `MELLEA_BACKEND`
    if set, else Ollama when a server answers at `OLLAMA_HOST` (default 127.0.0.1:11434),
    else the embedded model. `model_id` defaults to `MELLEA_MODEL` when `backend_name` is
    None, then to the backend's default model; `ctx` to `SimpleContext()`;
    `model_options` apply to every call; other keyword arguments go to the backend.
    """
    import importlib
    import os

    name = _choose_default_backend() if backend_name is None else backend_name.lower()
    if name in _UNSUPPORTED:
        raise ValueError(f"backend {backend_name!r} is not available: {_UNSUPPORTED[name]}")
    if name not in _BACKENDS:
        raise ValueError(
            f"unknown backend {backend_name!r}; choose one of {', '.join(sorted(_BACKENDS))}"
        )
    module_name, class_name = _BACKENDS[name]
    backend_cls = getattr(importlib.import_module(module_name), class_name)
    if model_id is None and backend_name is None:
        model_id = os.environ.get("MELLEA_MODEL") or None
    if model_id is not None:
        backend_kwargs["model_id"] = model_id
    backend = backend_cls(model_options=model_options, **backend_kwargs)
    from .session import MelleaSession

    return MelleaSession(backend, ctx)


__all__ = ["start_session"]
