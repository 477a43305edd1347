"""Hook payloads, one module per hook category."""

from .streaming import StreamingEndPayload, StreamingEventPayload, StreamingStartPayload

__all__ = ["StreamingEndPayload", "StreamingEventPayload", "StreamingStartPayload"]
