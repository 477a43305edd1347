"""Streaming hook payloads (defined in `mellea.core.hooks.streaming`)."""

from ...core.hooks.streaming import (
    StreamingEndPayload,
    StreamingEventPayload,
    StreamingStartPayload,
)

__all__ = [
    "StreamingEndPayload",
    "StreamingEventPayload",
    "StreamingStartPayload",
]
