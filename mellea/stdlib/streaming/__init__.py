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

from typing import TYPE_CHECKING

from ..._lazy import lazy_getattr

# Loaded on first use: the sampling loop imports `._checks` on every session's path, and
# `._partial_model` pulls in pydantic.
_MODULES = {
    "._events": (
        "ChunkEvent", "CompletedEvent", "ErrorEvent", "FullValidationEvent", "QuickCheckEvent",
        "RetryEvent", "StreamEvent", "StreamingDoneEvent",
    ),
    "._partial_json": ("IncrementalJSONParser", "PartialJSONError"),
    "._partial_model": ("PartialModelParser", "partial_objects"),
    "._streamer": ("EventStreamer", "Streamer", "stream"),
}  # fmt: skip
_EXPORTS = {name: f"{__name__}{mod}:{name}" for mod, names in _MODULES.items() for name in names}
__getattr__ = lazy_getattr(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from ._events import ChunkEvent as ChunkEvent
    from ._events import CompletedEvent as CompletedEvent
    from ._events import ErrorEvent as ErrorEvent
    from ._events import FullValidationEvent as FullValidationEvent
    from ._events import QuickCheckEvent as QuickCheckEvent
    from ._events import RetryEvent as RetryEvent
    from ._events import StreamEvent as StreamEvent
    from ._events import StreamingDoneEvent as StreamingDoneEvent
    from ._partial_json import IncrementalJSONParser as IncrementalJSONParser
    from ._partial_json import PartialJSONError as PartialJSONError
    from ._partial_model import PartialModelParser as PartialModelParser
    from ._partial_model import partial_objects as partial_objects
    from ._streamer import EventStreamer as EventStreamer
    from ._streamer import Streamer as Streamer
    from ._streamer import stream as stream
