"""Streaming validation: check a generation chunk by chunk and stop it at the first failure.

`stream(action, backend, ctx, requirements=[...], chunking="sentence")` returns a
`Streamer`: `async for chunk in streamer` yields chunks that passed every requirement's
`stream_validate`; a `"fail"` cancels the request at once (`failed_early`,
`streaming_failures`); at the natural end every other requirement's `validate()` runs
(`final_validations`, `completed_normally`). `as_events=True` gives the typed events
(`ChunkEvent`, `QuickCheckEvent`, `StreamingDoneEvent`, `FullValidationEvent`,
`RetryEvent`, `ErrorEvent`, `CompletedEvent`), which plugins also receive on the
`streaming_event` hook. `format=Model` streams typed partial instances of `Model`;
`partial_objects(mot, Model)` follows any thunk generating `Model`'s JSON the same way.

Chunking strategies live in `mellea.core.chunking` (also `mellea.stdlib.chunking`).
"""

from ._events import (
    ChunkEvent,
    CompletedEvent,
    ErrorEvent,
    FullValidationEvent,
    QuickCheckEvent,
    RetryEvent,
    StreamEvent,
    StreamingDoneEvent,
)
from ._partial_json import IncrementalJSONParser, PartialJSONError
from ._partial_model import PartialModelParser, partial_objects
from ._streamer import EventStreamer, Streamer, stream

__all__ = [
    "ChunkEvent",
    "CompletedEvent",
    "ErrorEvent",
    "EventStreamer",
    "FullValidationEvent",
    "IncrementalJSONParser",
    "PartialJSONError",
    "PartialModelParser",
    "QuickCheckEvent",
    "RetryEvent",
    "StreamEvent",
    "Streamer",
    "StreamingDoneEvent",
    "partial_objects",
    "stream",
]
