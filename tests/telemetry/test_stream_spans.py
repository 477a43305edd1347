"""`stream()` runs on the loopback server: the `stream` span, its events, its metrics."""

from __future__ import annotations

from typing import Any

from mellea.backends.ollama import OllamaModelBackend
from mellea.core.backend import Backend
from mellea.core.context import Context
from mellea.core.requirement import PartialValidationResult, Requirement, ValidationResult
from mellea.stdlib.components import Instruction
from mellea.stdlib.context import SimpleContext
from mellea.stdlib.streaming import stream
from tests.servers import LoopbackServer, Reply
from tests.telemetry.conftest import Otel


class NoForbidden(Requirement):
    def __init__(self) -> None:
        super().__init__("Never say forbidden.")

    async def stream_validate(
        self, chunk: str, *, backend: Backend, ctx: Context
    ) -> PartialValidationResult:
        return PartialValidationResult("fail" if "forbidden" in chunk else "unknown")

    async def validate(
        self, backend: Backend, ctx: Context, *, format: Any = None, model_options: Any = None
    ) -> ValidationResult:
        return ValidationResult("forbidden" not in str(ctx.last_output()))


async def test_stream_span_with_events(otel: Otel, loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text="One is fine. Two is fine."))
    backend = OllamaModelBackend("m", base_url=loopback.url)
    async with await stream(
        Instruction("Count."), backend, SimpleContext(), requirements=[NoForbidden()],
        chunking="sentence",
    ) as run:  # fmt: skip
        chunks = [c async for c in run]
    await backend.aclose()
    assert chunks == ["One is fine.", "Two is fine."]
    span = otel.span("stream")
    attributes = dict(span.attributes or {})
    assert attributes["mellea.streaming.chunking_strategy"] == "SentenceChunking"
    assert attributes["mellea.streaming.requirement_count"] == 1
    assert attributes["mellea.streaming.success"] is True
    assert attributes["mellea.streaming.full_text_length"] == len("One is fine. Two is fine.")
    assert attributes["gen_ai.provider.name"] == "ollama"
    names = [e.name for e in span.events]
    assert names == ["quick_check", "chunk", "quick_check", "chunk", "streaming_done",
                     "full_validation", "completed"]  # fmt: skip
    assert span.events[1].attributes["mellea.streaming.chunk_text_length"] == len("One is fine.")
    assert otel.total("mellea.sampling.successes", strategy="stream") == 1
    assert otel.total("mellea.requirement.checks", requirement="NoForbidden") == 1
    # The run's request nests under it (it starts before the run's own start hook).
    assert [c.name for c in otel.children(span)] == ["chat m"]
    assert otel.spans("chat m")[0].attributes["gen_ai.request.stream"] is True


async def test_failed_stream_run_is_counted(otel: Otel, loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text="This is forbidden. More."))
    backend = OllamaModelBackend("m", base_url=loopback.url)
    async with await stream(
        Instruction("Say it."), backend, SimpleContext(), requirements=[NoForbidden()],
        chunking="sentence",
    ) as run:  # fmt: skip
        _ = [c async for c in run]
    await backend.aclose()
    span = otel.span("stream")
    assert span.attributes["mellea.streaming.success"] is False
    assert "quick_check" in [e.name for e in span.events]
    assert otel.total("mellea.sampling.failures", strategy="stream") == 1
