"""What users call: sessions, contexts, components, the functional API."""

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr

# Streaming validation under the reference's `mellea.stdlib` names (loaded on first use).
_EXPORTS = {
    name: f"mellea.stdlib.streaming:{name}"
    for name in (
        "ChunkEvent", "CompletedEvent", "ErrorEvent", "EventStreamer", "FullValidationEvent",
        "QuickCheckEvent", "RetryEvent", "StreamEvent", "Streamer", "StreamingDoneEvent", "stream",
    )
}  # fmt: skip
__getattr__ = lazy_getattr(__name__, _EXPORTS)
__all__ = list(_EXPORTS)

if TYPE_CHECKING:
    from .streaming import (
        ChunkEvent,
        CompletedEvent,
        ErrorEvent,
        EventStreamer,
        FullValidationEvent,
        QuickCheckEvent,
        RetryEvent,
        Streamer,
        StreamEvent,
        StreamingDoneEvent,
        stream,
    )
