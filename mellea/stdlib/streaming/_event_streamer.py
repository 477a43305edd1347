"""`EventStreamer`: the typed events of a `stream(..., as_events=True)` run.

It is a view over the run's `Streamer` (which `stream()` attaches): the events come
from a queue the streamer fills; the terminal state is the streamer's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING

from ._events import StreamEvent

if TYPE_CHECKING:
    from ._streamer import Streamer

__all__ = ["EventStreamer"]


class EventStreamer:
    """The events of a `stream(..., as_events=True)` run, in order; use `async with`."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[StreamEvent | None] = asyncio.Queue()
        self._streamer: Streamer | None = None

    def _bound(self) -> Streamer:
        if self._streamer is None:
            raise RuntimeError("this EventStreamer is not attached to a run; use stream()")
        return self._streamer

    async def __aenter__(self) -> EventStreamer:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[StreamEvent]:
        self._bound()._start()
        while True:
            event = await self._queue.get()
            if event is None:
                self._queue.put_nowait(None)
                return
            yield event

    async def aclose(self) -> None:
        await self._bound().aclose()

    mot = property(lambda self: self._bound().mot, doc="The current attempt's thunk.")
    streaming_id = property(lambda self: self._bound().streaming_id)
    completed_normally = property(lambda self: self._bound().completed_normally)
    failed_early = property(lambda self: self._bound().failed_early)
    streaming_failures = property(lambda self: self._bound().streaming_failures)
    final_validations = property(lambda self: self._bound().final_validations)
    failure_reason = property(lambda self: self._bound().failure_reason)
    full_text = property(lambda self: self._bound().full_text)
    usage = property(lambda self: self._bound().usage)
