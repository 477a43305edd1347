# Requires: mellea
# Returns: None
import asyncio
import re

from mellea.core.backend import Backend
from mellea.core.base import Context
from mellea.core.requirement import PartialValidationResult, Requirement, ValidationResult
from mellea.plugins import hook, register
from mellea.stdlib.components import Instruction
from mellea.stdlib.streaming import (
    ChunkEvent,
    CompletedEvent,
    FullValidationEvent,
    QuickCheckEvent,
    StreamingDoneEvent,
    stream,
)

_SENTENCE_END = re.compile(r"[.!?]+")


class MaxSentencesReq(Requirement):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self._limit = limit
        self._count = 0

    def format_for_llm(self) -> str:
        return f"The response must be at most {self._limit} sentences."

    async def stream_validate(
        self, chunk: str, *, backend: Backend, ctx: Context
    ) -> PartialValidationResult:
        self._count += len(_SENTENCE_END.findall(chunk))
        if self._count > self._limit:
            return PartialValidationResult(
                "fail", reason=f"Exceeded {self._limit}-sentence limit"
            )
        return PartialValidationResult("unknown")

    async def validate(
        self, backend: Backend, ctx: Context, *, format=None, model_options=None
    ) -> ValidationResult:
        return ValidationResult(result=self._count <= self._limit)


@hook("streaming_event")
async def print_events(payload, ctx) -> None:
    event = payload.event
    match event:
        case ChunkEvent():
            print(f"  chunk[{event.chunk_index}]: {event.text!r}")
        case QuickCheckEvent(passed=False):
            print(f"  FAIL at chunk {event.chunk_index}: {event.results[0].reason}")
        case StreamingDoneEvent():
            print(f"  stream done — {len(event.full_text)} chars")
        case FullValidationEvent():
            print(f"  final validation: {'pass' if event.passed else 'fail'}")
        case CompletedEvent():
            print(f"  completed — success={event.success}")
        case _:
            pass


async def main() -> None:
    from mellea.stdlib.session import start_session

    m = start_session()
    register(print_events)

    # Draining the stream drives generation; print_events fires per event.
    async with await stream(
        Instruction("Write a two-sentence summary of the water cycle."),
        m.backend,
        m.ctx,
        requirements=[MaxSentencesReq(limit=3)],
        chunking="sentence",
    ) as streamer:
        async for _chunk in streamer:
            pass


asyncio.run(main())
