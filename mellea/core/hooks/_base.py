"""The base of every hook payload: who fired it, when, and within which operation."""

from __future__ import annotations

import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, InstanceOf

from ._scope import CallScope, current_scope

__all__ = ["MelleaBasePayload", "fields_for", "fields_here"]


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class MelleaBasePayload(BaseModel):
    """Fields every payload has. Payloads are frozen: a hook reads them, and proposes a
    change by returning a modified copy (`modify(payload, field=...)`).

    - `session_id` — the session the operation runs in (None outside any session);
    - `request_id` — the id of the outermost operation below the session (the user's
      request: e.g. the `instruct` call a validation belongs to); "" outside any;
    - `timestamp` — when the payload was built (UTC);
    - `hook` — the hook point's name;
    - `user_metadata` — free for plugins (copy it to change it);
    - `call_id` — the id of the operation this payload reports on; the payloads of one
      operation share it (e.g. `generation_pre_call` and `generation_post_call` of one
      generation; equal to the category's own id: `action_id`, `generation_id`,
      `sampling_id`, `validation_id`, `tool_invocation_id`, `streaming_id`);
    - `parent` — the `CallScope` the operation started in (its chain reaches the
      session); `parent_call_id` is its id. Observers nest by it (see `CallScope`).
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    session_id: str | None = None
    request_id: str = ""
    timestamp: datetime.datetime = Field(default_factory=_now)
    hook: str = ""
    user_metadata: dict[str, Any] = Field(default_factory=dict)
    call_id: str = ""
    parent: InstanceOf[CallScope] | None = None

    @property
    def parent_call_id(self) -> str | None:
        """The id of the operation this one started in (None at the top)."""
        return self.parent.id if self.parent is not None else None

    @property
    def attempt(self) -> int | None:
        """The 1-based sampling attempt this operation belongs to, if inside one."""
        found = self.parent.find("attempt") if self.parent is not None else None
        return found.attempt if found is not None else None


def fields_for(own: CallScope, hook: str) -> dict[str, Any]:
    """The base fields of a payload reporting on the operation of scope `own`."""
    return {
        "session_id": own.session_id,
        "request_id": own.request_id,
        "hook": hook,
        "call_id": own.id,
        "parent": own.parent,
    }


def fields_here(call_id: str, hook: str) -> dict[str, Any]:
    """The base fields of a payload for operation `call_id` started in the current scope."""
    parent = current_scope()
    if parent is None:
        return {"request_id": call_id, "hook": hook, "call_id": call_id}
    return {
        "session_id": parent.session_id,
        "request_id": parent.request_id or call_id,
        "hook": hook,
        "call_id": call_id,
        "parent": parent,
    }
