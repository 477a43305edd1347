"""Backends by name: `start_backend` (a context and a backend) and `start_session`.

`backend_name` is "ollama", "openai", "litellm" or "local"; None picks by what is
reachable (see `start_session`). No backend module is imported until it is chosen, so a
session on one engine never loads the others.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ..core import hooks
from ..core.context import Context

if TYPE_CHECKING:
    from ..core.backend import Backend
    from .session import MelleaSession

CtxT = TypeVar("CtxT", bound=Context)
"""The context type `start_backend` returns."""

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


def backend_name_to_class(name: str) -> Any:
    """The backend class for a short name, or None for a name that is not a backend.

    "hf"/"huggingface" and "watsonx" raise `ValueError` saying what to use instead.
    """
    import importlib

    key = name.lower()
    if key == "huggingface":
        key = "hf"
    if key in _UNSUPPORTED:
        raise ValueError(f"backend {name!r} is not available: {_UNSUPPORTED[key]}")
    if key not in _BACKENDS:
        return None
    module_name, class_name = _BACKENDS[key]
    return getattr(importlib.import_module(module_name), class_name)


def _context(ctx: Context | None, context_type: str | None) -> Context:
    from .context import ChatContext, SimpleContext

    if ctx is not None and context_type is not None:
        raise ValueError("pass either ctx= or context_type=, not both")
    if context_type is None or context_type == "simple":
        return ctx if ctx is not None else SimpleContext()
    if context_type == "chat":
        return ChatContext()
    raise ValueError(f"context_type must be 'simple' or 'chat', got {context_type!r}")


def start_backend(
    backend_name: str | None = None,
    model_id: Any = None,
    ctx: Context | None = None,
    *,
    context_type: Literal["simple", "chat"] | None = None,
    model_options: Mapping[str, Any] | None = None,
    **backend_kwargs: Any,
) -> tuple[Context, Backend]:
    """A context and a backend chosen by name, for programs that thread them themselves.

    Arguments as for `start_session`.
    """
    import os

    context = _context(ctx, context_type)
    name = _choose_default_backend() if backend_name is None else backend_name
    backend_cls = backend_name_to_class(name)
    if backend_cls is None:
        raise ValueError(
            f"unknown backend {backend_name!r}; choose one of {', '.join(sorted(_BACKENDS))}"
        )
    if model_id is None and backend_name is None:
        model_id = os.environ.get("MELLEA_MODEL") or None
    if model_id is not None:
        backend_kwargs["model_id"] = model_id
    backend: Backend = backend_cls(model_options=model_options, **backend_kwargs)
    return context, backend


def start_session(
    backend_name: str | None = None,
    model_id: Any = None,
    ctx: Context | None = None,
    *,
    context_type: Literal["simple", "chat"] | None = None,
    model_options: Mapping[str, Any] | None = None,
    plugins: Sequence[Any] | None = None,
    allow_context_type_change: bool = False,
    **backend_kwargs: Any,
) -> MelleaSession:
    """A session with a backend chosen by name.

    `backend_name`: "ollama", "openai", "litellm" or "local"; None uses `MELLEA_BACKEND`
    if set, else Ollama when a server answers at `OLLAMA_HOST` (default 127.0.0.1:11434),
    else the embedded model. `model_id` defaults to `MELLEA_MODEL` when `backend_name` is
    None, then to the backend's default model. `ctx` defaults to `SimpleContext()`;
    `context_type="chat"` is short for `ctx=ChatContext()`. `model_options` apply to every
    call; `plugins` are registered for this session only (needs `mellea.plugins`); other
    keyword arguments go to the backend.
    """
    from .session import MelleaSession

    session_id = str(uuid.uuid4())
    if plugins:
        _register_session_plugins(plugins, session_id)
    if hooks.active:  # session_pre_init may change the model and options, or refuse
        kind = (
            type(ctx).__name__
            if ctx is not None
            else f"{(context_type or 'simple').title()}Context"
        )
        try:
            model_id, model_options = hooks.session.pre_init(
                session_id, backend_name, model_id, model_options, kind
            )
        except BaseException:
            _deregister_session_plugins(session_id)
            raise
    context, backend = start_backend(
        backend_name, model_id, ctx, context_type=context_type, model_options=model_options,
        **backend_kwargs,
    )  # fmt: skip
    session = MelleaSession(
        backend, context, session_id=session_id, allow_context_type_change=allow_context_type_change
    )
    if hooks.active:
        hooks.session.post_init(session)
    return session


def _register_session_plugins(plugins: Sequence[Any], session_id: str) -> None:
    from ..plugins import register

    register(list(plugins), session_id=session_id)


def _deregister_session_plugins(session_id: str) -> None:
    from ..plugins.manager import deregister_session_plugins

    deregister_session_plugins(session_id)


__all__ = ["CtxT", "backend_name_to_class", "start_backend", "start_session"]
