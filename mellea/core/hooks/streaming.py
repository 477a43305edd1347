"""Payloads of the streaming-validation hooks (`mellea.stdlib.streaming.stream`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ._base import MelleaBasePayload

__all__ = ["StreamingEndPayload", "StreamingEventPayload", "StreamingStartPayload", "base_fields"]


class StreamingStartPayload(MelleaBasePayload):
    """A `stream()` run started."""

    streaming_id: str = ""
    has_requirements: bool = False
    requirement_count: int = 0
    chunking_strategy: str = ""


class StreamingEventPayload(MelleaBasePayload):
    """One `StreamEvent` of a run (`event`); `streaming_id` tells concurrent runs apart."""

    streaming_id: str = ""
    event: Any = None
    requirements: list[Any] = Field(default_factory=list)


class StreamingEndPayload(MelleaBasePayload):
    """A `stream()` run ended (`success`: an attempt passed every check)."""

    streaming_id: str = ""
    success: bool = True
    failure_reason: str | None = None
    exception: BaseException | None = None
    model: str | None = None
    provider: str | None = None
    full_text_length: int = 0


def base_fields(streaming_id: str, hook: str) -> dict[str, Any]:
    """The base fields of a payload of stream `streaming_id` (its scope, if current)."""
    from ._base import fields_for, fields_here
    from ._scope import current_scope

    own = current_scope()
    if own is not None and own.id == streaming_id:
        return fields_for(own, hook)
    return fields_here(streaming_id, hook)
