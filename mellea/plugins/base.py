"""The base of every hook payload: who fired it and when."""

from __future__ import annotations

import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["MelleaBasePayload"]


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class MelleaBasePayload(BaseModel):
    """Fields every payload has; payloads are frozen (hooks read, never mutate)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    session_id: str | None = None
    request_id: str = ""
    timestamp: datetime.datetime = Field(default_factory=_now)
    hook: str = ""
    user_metadata: dict[str, Any] = Field(default_factory=dict)
