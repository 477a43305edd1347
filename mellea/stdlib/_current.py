"""The current session: the innermost `with session:` / `async with session:` block."""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .session import MelleaSession

_current_session: contextvars.ContextVar[MelleaSession | None] = contextvars.ContextVar(
    "mellea_current_session", default=None
)


def get_session() -> MelleaSession:
    """The session of the innermost enclosing `with`/`async with` session block."""
    session = _current_session.get()
    if session is None:
        raise RuntimeError(
            "no active mellea session: use `with mellea.start_session() as m:` "
            "(or pass the session explicitly)"
        )
    return session


__all__ = ["get_session"]
