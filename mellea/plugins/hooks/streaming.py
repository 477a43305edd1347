"""Payloads of the streaming-validation hooks (`mellea.stdlib.streaming.stream`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..base import MelleaBasePayload

__all__ = ["StreamingEndPayload", "StreamingEventPayload", "StreamingStartPayload"]


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
