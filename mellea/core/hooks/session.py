"""Session lifecycle payloads (`start_session`, `reset`, `cleanup`).

Fired by `mellea.stdlib.start_backend.start_session` and `MelleaSession`. Each carries the
session's id as `session_id` and `call_id`.
"""

from __future__ import annotations

from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

from ..._runtime.portal import get_portal, run_sync
from ..errors import MelleaError
from ._base import MelleaBasePayload

T = TypeVar("T")

__all__ = [
    "SessionCleanupPayload",
    "SessionPostInitPayload",
    "SessionPreInitPayload",
    "SessionResetPayload",
    "acleanup",
    "cleanup",
    "post_init",
    "pre_init",
    "reset",
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


# ----- firing (called by `start_session` and `MelleaSession` while a plugin is registered) ---


def _run(coro: Coroutine[Any, Any, T]) -> T | None:
    """Run session hooks from sync code: on mellea's I/O loop, waiting for them (on the
    I/O thread itself they can only be started, not awaited)."""
    portal = get_portal()
    if portal.on_portal_thread():
        portal.spawn(coro)
        return None
    return run_sync(coro)


def pre_init(
    session_id: str,
    backend_name: str | None,
    model_id: Any,
    model_options: Mapping[str, Any] | None,
    context_type: str,
) -> tuple[Any, Mapping[str, Any] | None]:
    """Fire `session_pre_init`; returns the (possibly changed) model id and options."""
    from .. import hooks

    if not hooks.on("session_pre_init"):
        return model_id, model_options
    given_id = "" if model_id is None else str(getattr(model_id, "model_id", None) or model_id)
    payload = SessionPreInitPayload(
        session_id=session_id, request_id=session_id, hook="session_pre_init",
        call_id=session_id, backend_name=backend_name or "default", model_id=given_id,
        model_options=dict(model_options) if model_options is not None else None,
        context_type=context_type,
    )  # fmt: skip
    after = _run(hooks.dispatch("session_pre_init", payload))
    if after is None:
        return model_id, model_options
    new_id = model_id if after.model_id == given_id else (after.model_id or None)
    return new_id, after.model_options


def _fields(session: Any, hook: str) -> dict[str, Any]:
    return {"session_id": session.id, "request_id": session.id, "hook": hook, "call_id": session.id}


def post_init(session: Any) -> None:
    """Fire `session_post_init` for a new session."""
    from .. import hooks

    if hooks.on("session_post_init"):
        backend = session.backend
        payload = SessionPostInitPayload(
            **_fields(session, "session_post_init"), model_id=str(backend.model_id),
            context=session.ctx, session=session,
            backend_name=str(getattr(backend, "provider", type(backend).__name__)),
        )  # fmt: skip
        _run(hooks.dispatch("session_post_init", payload, backend=backend, session=session))


def reset(session: Any, previous_context: Any) -> None:
    """Fire `session_reset`."""
    from .. import hooks

    if hooks.on("session_reset"):
        payload = SessionResetPayload(
            **_fields(session, "session_reset"), previous_context=previous_context
        )
        _run(hooks.dispatch("session_reset", payload, backend=session.backend, session=session))


async def acleanup(session: Any, exception: BaseException | None) -> None:
    """Fire `session_cleanup` (once per session)."""
    from .. import hooks

    if not hooks.on("session_cleanup") or session.__dict__.get("_hooks_cleaned"):
        return
    session.__dict__["_hooks_cleaned"] = True
    from ..thunk import ModelOutputThunk

    context = session.ctx
    outputs = sum(1 for item in context.as_list() if isinstance(item, ModelOutputThunk))
    payload = SessionCleanupPayload(
        **_fields(session, "session_cleanup"), context=context, interaction_count=outputs,
        exception=exception,
    )  # fmt: skip
    try:
        await hooks.dispatch("session_cleanup", payload, backend=session.backend, session=session)
    except MelleaError:  # the session is ending anyway
        pass


def cleanup(session: Any, exception: BaseException | None) -> None:
    """`acleanup` from sync code."""
    _run(acleanup(session, exception))
