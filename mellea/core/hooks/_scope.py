"""Which operation a hook payload belongs to: `CallScope`, carried in a context variable.

Each operation that fires hooks (a session call, a component, a sampling loop and each of
its attempts, a validation, a tool call) enters a scope whose `parent` is the scope it
started in. The variable is a `contextvars.ContextVar`, so the chain follows the work
wherever it runs: into tasks the operation spawns (a sampling loop's background task, the
generation's task on mellea's I/O thread — both copy the caller's context when created)
and into concurrent thunks, each of which keeps the scope it was started in. A payload
records its own operation's id (`call_id`) and the scope it started in (`parent`), so an
observer can nest what it sees exactly as the calls nested — never under a sibling.

Scopes are entered only while some plugin is registered (the call sites check
`mellea.core.hooks.active` first): unused, this costs nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "CallScope",
    "current_scope",
    "enter_scope",
    "leave_scope",
    "new_id",
    "scope",
    "use_scope",
]

_PREFIX = os.urandom(4).hex()
_counter = itertools.count(1)


def new_id() -> str:
    """A process-unique id for an operation (cheap: a counter behind a random prefix)."""
    return f"{_PREFIX}-{next(_counter):x}"


@dataclass(frozen=True, slots=True)
class CallScope:
    """One operation in progress, and the one that started it (`parent`).

    `kind` is one of `"session"`, `"component"`, `"sampling"`, `"attempt"`,
    `"validation"`, `"tool"`, `"streaming"`. `session_id` is inherited from the parent
    unless the scope is a session's own. `attempt` is the 1-based attempt index of an
    `"attempt"` scope (and of everything inside it, through `find("attempt")`).
    `started_ns` is `time.time_ns()` when the scope was entered (for observers that open
    a span for it only when its first child reports). `label` names what runs: the
    strategy's class for `"sampling"` and `"attempt"` scopes, the tool's name for
    `"tool"`.
    """

    kind: str
    id: str
    parent: CallScope | None = None
    session_id: str | None = None
    attempt: int | None = None
    started_ns: int = 0
    label: str = ""

    def find(self, kind: str) -> CallScope | None:
        """The nearest scope of `kind`: this one or an ancestor."""
        node: CallScope | None = self
        while node is not None and node.kind != kind:
            node = node.parent
        return node

    def chain(self) -> list[CallScope]:
        """This scope and its ancestors, outermost first."""
        nodes: list[CallScope] = []
        node: CallScope | None = self
        while node is not None:
            nodes.append(node)
            node = node.parent
        return nodes[::-1]

    @property
    def request_id(self) -> str:
        """The id of the outermost operation below the session (the user's request)."""
        outer = [s for s in self.chain() if s.kind != "session"]
        return outer[0].id if outer else ""


_current: contextvars.ContextVar[CallScope | None] = contextvars.ContextVar(
    "mellea_call_scope", default=None
)


def current_scope() -> CallScope | None:
    """The innermost operation the running code belongs to (None outside any)."""
    return _current.get()


def enter_scope(
    kind: str,
    id: str | None = None,
    *,
    attempt: int | None = None,
    session_id: str | None = None,
    label: str = "",
) -> tuple[CallScope, contextvars.Token[CallScope | None]]:
    """Make a new scope current (a child of the current one); pair with `leave_scope`."""
    parent = _current.get()
    if session_id is None and parent is not None:
        session_id = parent.session_id
    new = CallScope(kind, id or new_id(), parent, session_id, attempt, time.time_ns(), label)
    return new, _current.set(new)


def leave_scope(token: contextvars.Token[CallScope | None]) -> None:
    """Restore the scope that was current before `enter_scope`."""
    _current.reset(token)


@contextlib.contextmanager
def scope(
    kind: str,
    id: str | None = None,
    *,
    attempt: int | None = None,
    session_id: str | None = None,
    label: str = "",
) -> Iterator[CallScope]:
    """`enter_scope` for the duration of a `with` block."""
    new, token = enter_scope(kind, id, attempt=attempt, session_id=session_id, label=label)
    try:
        yield new
    finally:
        _current.reset(token)


@contextlib.contextmanager
def use_scope(existing: CallScope | None) -> Iterator[CallScope | None]:
    """Make an existing scope current again for a `with` block (work resumed later in it,
    e.g. the validation of an attempt generated earlier)."""
    token = _current.set(existing) if existing is not None else None
    try:
        yield existing
    finally:
        if token is not None:
            _current.reset(token)
