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
    from .streaming import ChunkEvent as ChunkEvent
    from .streaming import CompletedEvent as CompletedEvent
    from .streaming import ErrorEvent as ErrorEvent
    from .streaming import EventStreamer as EventStreamer
    from .streaming import FullValidationEvent as FullValidationEvent
    from .streaming import QuickCheckEvent as QuickCheckEvent
    from .streaming import RetryEvent as RetryEvent
    from .streaming import Streamer as Streamer
    from .streaming import StreamEvent as StreamEvent
    from .streaming import StreamingDoneEvent as StreamingDoneEvent
    from .streaming import stream as stream
