# Requires: mellea
# Returns: None
import asyncio
import re

from mellea.core.backend import Backend
from mellea.core.base import Context
from mellea.core.requirement import PartialValidationResult, Requirement, ValidationResult
from mellea.stdlib.chunking import ChunkingStrategy
from mellea.stdlib.components import Instruction
from mellea.stdlib.streaming import stream

_NUMBERED_LINE = re.compile(r"^\s*\d+[\.\)]\s")


class LineChunking(ChunkingStrategy):
    """Emits one complete line per chunk, splitting on single newlines."""

    def split(self, text: str) -> list[str]:
        if "\n" not in text:
            return []
        last_nl = text.rfind("\n")
        return [line for line in text[:last_nl].split("\n") if line.strip()]

    def flush(self, text: str) -> list[str]:
        if not text:
            return []
        last_nl = text.rfind("\n")
        trailing = (text if last_nl == -1 else text[last_nl + 1 :]).strip()
        return [trailing] if trailing else []


class NumberedLineReq(Requirement):
    """Cancels the stream if any line does not begin with a number."""

    def format_for_llm(self) -> str:
        return "Every line must begin with a number followed by a period (e.g. '1. ')."

    async def stream_validate(
        self, chunk: str, *, backend: Backend, ctx: Context
    ) -> PartialValidationResult:
        if not _NUMBERED_LINE.match(chunk):
            return PartialValidationResult(
                "fail", reason=f"Line does not start with a number: {chunk.strip()!r}"
            )
        return PartialValidationResult("unknown")

    async def validate(
        self, backend: Backend, ctx: Context, *, format=None, model_options=None
    ) -> ValidationResult:
        # All format checking happens during streaming. Lines that reach validate()
        # are guaranteed to have passed stream_validate() already.
        return ValidationResult(result=True)


async def main() -> None:
    from mellea.stdlib.session import start_session

    m = start_session()

    async with await stream(
        Instruction(
            "List five world capitals, one per line, numbered 1 through 5. "
            "Use the format: '1. City'. Output only the numbered list, nothing else."
        ),
        m.backend,
        m.ctx,
        requirements=[NumberedLineReq()],
        chunking=LineChunking(),
    ) as streamer:
        async for line in streamer:
            print(f"  line: {line.strip()!r}")

    if streamer.streaming_failures:
        print(f"FAIL: {streamer.streaming_failures[0][1].reason}")
    else:
        print("Completed normally")


asyncio.run(main())
