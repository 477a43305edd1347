"""The 0.8.0 release's shapes keep working: `stream_validate(delta, ..., flush=False)`
returning a list, `stream_flush`, `Requirement(chunking=...)`, `mellea.core.chunking`."""

from __future__ import annotations

from typing import Any

from mellea.backends.ollama import OllamaModelBackend
from mellea.core import Chunker, SentenceChunking, resolve_chunking_strategy
from mellea.core.backend import Backend
from mellea.core.context import Context
from mellea.core.requirement import PartialValidationResult, Requirement
from mellea.stdlib.chunking import ChunkingStrategy, WordChunking
from mellea.stdlib.components import Instruction
from mellea.stdlib.context import SimpleContext
from mellea.stdlib.streaming import CompletedEvent, QuickCheckEvent, stream
from tests.servers import LoopbackServer, Reply


class EndsWithPeriod(Requirement):
    """Release style: sees deltas, keeps the text, judges only at the end (`stream_flush`)."""

    def __init__(self) -> None:
        super().__init__("End with a period.")
        self.text = ""

    async def stream_validate(
        self, delta: str, *, backend: Backend, ctx: Context, flush: bool = False
    ) -> list[PartialValidationResult]:
        self.text += delta
        return [PartialValidationResult("unknown")]

    async def stream_flush(
        self, *, backend: Backend, ctx: Context
    ) -> list[PartialValidationResult]:
        ok = self.text.rstrip().endswith(".")
        return [PartialValidationResult("pass" if ok else "fail", reason="no final period")]


async def test_stream_flush_judges_the_end(loopback: LoopbackServer) -> None:
    backend = OllamaModelBackend("m", base_url=loopback.url)
    for text, passed in (("It ends well.", True), ("It trails off", False)):
        loopback.enqueue(Reply(text=text))
        requirement = EndsWithPeriod()
        events = await stream(
            Instruction("x"), backend, SimpleContext(), requirements=[requirement],
            as_events=True,
        )  # fmt: skip
        async with events:
            seen: list[Any] = [e async for e in events]
        assert isinstance(seen[-1], CompletedEvent) and seen[-1].success is passed
        assert requirement.text == ""  # a per-attempt copy accumulated the text
        if not passed:
            assert isinstance(seen[-2], QuickCheckEvent) and not seen[-2].passed
            assert events.streaming_failures[0][1].reason == "no final period"
    await backend.aclose()


class NoLongWords(Requirement):
    def __init__(self) -> None:
        super().__init__("No word over 8 letters.", chunking="word")

    async def stream_validate(
        self, delta: str, *, backend: Backend, ctx: Context, flush: bool = False
    ) -> list[PartialValidationResult]:
        bad = len(delta) > 8
        return [PartialValidationResult("fail" if bad else "pass", reason=delta)]


async def test_a_requirement_with_its_own_chunking(loopback: LoopbackServer) -> None:
    """Word-checked while the reader gets sentences."""
    loopback.configure(token_delay=0.01)
    loopback.enqueue(Reply(text="Short words here. Then extraordinarily long ones follow. End."))
    backend = OllamaModelBackend("m", base_url=loopback.url)
    async with await stream(
        Instruction("x"), backend, SimpleContext(), requirements=[NoLongWords()],
        chunking="sentence",
    ) as streamer:  # fmt: skip
        chunks = [c async for c in streamer]
    assert chunks == ["Short words here."]
    assert streamer.failed_early and streamer.streaming_failures[0][1].reason == "extraordinarily"
    assert "follow" not in streamer.full_text
    await backend.aclose()


def test_chunkers_under_both_paths() -> None:
    assert isinstance(resolve_chunking_strategy("sentence"), SentenceChunking)
    assert issubclass(WordChunking, ChunkingStrategy)
    chunker = Chunker(SentenceChunking())
    assert chunker.feed("One. Tw") == ["One."]
    assert chunker.feed("o! Three") == ["Two!"]
    assert chunker.flush() == ["Three"]
    words = Chunker(WordChunking())
    assert words.feed(" a  b") == ["a"] and words.feed("c d\n") == ["bc", "d"]
