"""Session lifecycle payloads (`start_session`, `reset`, `cleanup`).

Fired by `mellea.stdlib.start_backend.start_session` and `MelleaSession`. Each carries the
session's id as `session_id` and `call_id`.
"""

from __future__ import annotations

from typing import Any

from ._base import MelleaBasePayload

__all__ = [
    "SessionCleanupPayload",
    "SessionPostInitPayload",
    "SessionPreInitPayload",
    "SessionResetPayload",
]


class SessionPreInitPayload(MelleaBasePayload):
    """`session_pre_init`: `start_session()` was called; no backend exists yet.

    - `backend_name` — the backend asked for (`"ollama"`, `"openai"`, `"local"`, ...);
    - `model_id` — the model asked for (writable);
    - `model_options` — the session's default options (writable);
    - `context_type` — the context class name (`"SimpleContext"`, `"ChatContext"`).

    A hook may block here: `start_session` then raises `PluginViolationError` and no
    backend is built.
    """

    backend_name: str
    model_id: str
    model_options: dict[str, Any] | None = None
    context_type: str = "SimpleContext"


class SessionPostInitPayload(MelleaBasePayload):
    """`session_post_init`: the session is built, before any call.

    - `session_id` — its id; `model_id` — its backend's model; `context` — its context;
    - `session` — the `MelleaSession` itself; `backend_name` — its backend's provider.
    """

    session_id: str = ""  # always set here
    model_id: str = ""
    context: Any = None
    session: Any = None
    backend_name: str = ""


class SessionResetPayload(MelleaBasePayload):
    """`session_reset`: `session.reset()` cleared the history (`previous_context`: before)."""

    previous_context: Any = None


class SessionCleanupPayload(MelleaBasePayload):
    """`session_cleanup`: the session ends (`with` exit, `cleanup()`, `close()`).

    - `context` — the history at the end; `interaction_count` — how many outputs it holds;
    - `exception` — what ended a `with` block, if it raised.
    """

    context: Any = None
    interaction_count: int = 0
    exception: BaseException | None = None
