"""Early exit is real: a failing quick check cancels the running request at once.

Against the loopback server (Ollama and OpenAI wires) the server sees the client
disconnect and stops after about as many tokens as the failing sentence needed; on the
embedded engine the sequence is freed before its next token. The attempt keeps its
partial text, the next attempt starts, usage counts the abandoned tokens too.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mellea.backends import ModelOption
from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.openai import OpenAIBackend
from mellea.core.backend import Backend
from mellea.core.context import Context
from mellea.core.requirement import PartialValidationResult, Requirement, ValidationResult
from mellea.stdlib.components import Instruction
from mellea.stdlib.context import SimpleContext
from mellea.stdlib.sampling import RepairTemplateStrategy
from mellea.stdlib.session import MelleaSession
from mellea.stdlib.streaming import (
    ChunkEvent,
    CompletedEvent,
    FullValidationEvent,
    QuickCheckEvent,
    RetryEvent,
    StreamingDoneEvent,
    stream,
)
from tests.servers import LoopbackServer, Reply

SENTENCES = [f"Line {i} says fine things." for i in range(1, 41)]
SENTENCES[4] = "Line 5 says forbidden things."  # the 5th sentence of 40 violates
BAD = " ".join(SENTENCES)
GOOD = " ".join(s.replace("forbidden", "fine") for s in SENTENCES[:6])
TOKENS_TO_FAILURE = len(" ".join(SENTENCES[:5]).split())  # to the violating sentence's end
FORBIDDEN_AT = BAD.split().index("forbidden") + 1  # the violating word itself (24th)


class NoForbidden(Requirement):
    """Fails a sentence that says "forbidden" (the page's shape: one chunk, one result)."""

    def __init__(self) -> None:
        super().__init__("Never say forbidden.")

    async def stream_validate(
        self, chunk: str, *, backend: Backend, ctx: Context
    ) -> PartialValidationResult:
        if "forbidden" in chunk:
            return PartialValidationResult("fail", reason=f"said it: {chunk!r}")
        return PartialValidationResult("unknown")

    async def validate(
        self, backend: Backend, ctx: Context, *, format: Any = None, model_options: Any = None
    ) -> ValidationResult:
        return ValidationResult("forbidden" not in str(ctx.last_output()))


def backend_for(kind: str, srv: LoopbackServer) -> Backend:
    if kind == "ollama":
        return OllamaModelBackend("m", base_url=srv.url)
    return OpenAIBackend("m", base_url=srv.openai_base_url)


@pytest.mark.parametrize("kind", ["ollama", "openai"])
async def test_failing_chunk_disconnects_the_request(kind: str, loopback: LoopbackServer) -> None:
    loopback.configure(token_delay=0.01)
    loopback.enqueue(Reply(text=BAD))
    backend = backend_for(kind, loopback)
    async with await stream(
        Instruction("Write 40 lines."), backend, SimpleContext(),
        requirements=[NoForbidden()], chunking="sentence", as_events=True,
    ) as events:  # fmt: skip
        seen = [e async for e in events]
    path = "/api/chat" if kind == "ollama" else "/v1/chat/completions"
    record = loopback.wait_idle().for_path(path)[-1]
    assert record.client_disconnected
    # The client cancelled right after the failing sentence's last token arrived (what it
    # had received by then is the attempt's text), and the server stopped sending there:
    # at most a couple of tokens were still in flight. (On an idle machine: exactly 25.)
    received = len(events.full_text.split())
    assert TOKENS_TO_FAILURE <= received < TOKENS_TO_FAILURE + 15, received
    assert received <= record.events_sent <= received + 3, (received, record.events_sent)
    assert events.failed_early and not events.completed_normally
    assert events.full_text.startswith(" ".join(SENTENCES[:5]))
    assert [type(e) for e in seen] == [QuickCheckEvent, ChunkEvent] * 4 + [
        QuickCheckEvent,
        CompletedEvent,
    ]
    assert [e.text for e in seen if isinstance(e, ChunkEvent)] == SENTENCES[:4]
    failing = seen[-2]
    assert isinstance(failing, QuickCheckEvent) and not failing.passed
    assert failing.chunk_index == 4 and "forbidden" in (failing.results[0].reason or "")
    ((req, result),) = events.streaming_failures
    assert isinstance(req, NoForbidden) and result.success == "fail"
    assert events.mot.is_cancelled()
    await backend.aclose()


async def test_retry_starts_a_new_attempt_and_events_say_so(loopback: LoopbackServer) -> None:
    loopback.configure(token_delay=0.005)
    loopback.enqueue(Reply(text=BAD), Reply(text=GOOD))
    backend = backend_for("ollama", loopback)
    async with await stream(
        Instruction("Write lines."), backend, SimpleContext(), requirements=[NoForbidden()],
        chunking="sentence", as_events=True, loop_budget=2,
    ) as events:  # fmt: skip
        seen = [e async for e in events]
    kinds = [type(e).__name__ for e in seen]
    retry = kinds.index("RetryEvent")
    assert kinds[retry - 1] == "QuickCheckEvent" and not seen[retry - 1].passed  # type: ignore[attr-defined]
    assert isinstance(seen[retry], RetryEvent) and seen[retry].attempt == 2
    assert "said it" in seen[retry].reason
    tail = [type(e) for e in seen[-3:]]
    assert tail == [StreamingDoneEvent, FullValidationEvent, CompletedEvent]
    done = seen[-1]
    assert isinstance(done, CompletedEvent) and done.success and done.attempts_used == 2
    assert events.completed_normally and not events.failed_early
    assert events.full_text == GOOD
    first, second = events._bound().attempts
    assert first.is_cancelled() and first.partial_value.startswith(" ".join(SENTENCES[:5]))
    assert second.value == GOOD
    # The repair told the model what failed.
    chats = loopback.wait_idle().for_path("/api/chat")
    assert "said it" in chats[-1].body["messages"][-1]["content"]
    # Usage: the abandoned attempt's tokens count too (estimated: one per event).
    assert first.generation.extra.get("usage_estimated") is True
    usage = events.usage
    assert usage["completion_tokens"] == first.generation.usage["completion_tokens"] + len(
        GOOD.split()
    )
    assert first.generation.usage["completion_tokens"] >= TOKENS_TO_FAILURE
    await backend.aclose()


async def test_sampling_loop_stops_a_failing_attempt_early(loopback: LoopbackServer) -> None:
    """`ainstruct(requirements=...)`: the loop's quick checks cancel attempt 1 mid-stream."""
    loopback.configure(token_delay=0.01)
    loopback.enqueue(Reply(text=BAD), Reply(text=GOOD))
    m = MelleaSession(OllamaModelBackend("m", base_url=loopback.url), SimpleContext())
    mot = await m.ainstruct(
        "Write lines.", requirements=[NoForbidden()], strategy=RepairTemplateStrategy(loop_budget=3)
    )
    assert not mot.is_computed()
    assert await mot.avalue() == GOOD
    result = mot.sampling_result
    assert result is not None and result.success and len(result.sample_generations) == 2
    first = result.sample_generations[0]
    assert first.is_cancelled() and "forbidden" in first.partial_value
    ((req, verdict),) = result.sample_validations[0]
    assert isinstance(req, NoForbidden) and not verdict and "said it" in (verdict.reason or "")
    chats = loopback.wait_idle().for_path("/api/chat")
    # No chunking given: each delta is checked, so it stops at the word itself.
    received = len(first.partial_value.split())
    assert FORBIDDEN_AT <= received < FORBIDDEN_AT + 15
    assert chats[-2].client_disconnected and chats[-2].events_sent <= received + 3
    assert chats[-2].body["stream"] is True  # the loop asked for a stream to check it
    assert not chats[-1].client_disconnected
    usage = mot.generation.usage or {}
    assert usage["completion_tokens"] >= FORBIDDEN_AT + len(GOOD.split())
    await m.backend.aclose()


async def test_exhausted_loop_returns_the_abandoned_attempts_text(
    loopback: LoopbackServer, mellea_logs: pytest.LogCaptureFixture
) -> None:
    """No attempt passed and the pick was cut mid-stream: its text is the result's text."""
    loopback.configure(token_delay=0.005)
    loopback.enqueue(Reply(text=BAD), Reply(text=BAD))
    m = MelleaSession(OllamaModelBackend("m", base_url=loopback.url), SimpleContext())
    mot = await m.ainstruct(
        "Write lines.", requirements=[NoForbidden()], strategy=RepairTemplateStrategy(loop_budget=2)
    )
    value = await mot.avalue()
    result = mot.sampling_result
    assert result is not None and not result.success and len(result.sample_generations) == 2
    picked = result.sample_generations[-1]
    assert picked.is_cancelled() and "forbidden" in picked.partial_value
    assert value == picked.partial_value  # what the attempt generated stays on the result
    assert "".join([chunk async for chunk in mot]) == value
    assert "returning attempt 2" in mellea_logs.text
    await m.backend.aclose()


async def test_many_validated_streams_at_once(loopback: LoopbackServer) -> None:
    loopback.configure(ttft=0.2, token_delay=0.001)
    backend = backend_for("ollama", loopback)
    n = 24
    for i in range(n):
        loopback.enqueue(Reply(text=BAD if i % 2 else GOOD, match=f"task {i}."))
    reqs = [NoForbidden()]
    streamers = [
        await stream(Instruction(f"task {i}."), backend, SimpleContext(), requirements=reqs,
                     chunking="sentence")
        for i in range(n)
    ]  # fmt: skip

    async def drain(s: Any) -> list[str]:
        async with s:
            return [c async for c in s]

    started = asyncio.get_running_loop().time()
    results = await asyncio.gather(*(drain(s) for s in streamers))
    elapsed = asyncio.get_running_loop().time() - started
    for i, (s, chunks) in enumerate(zip(streamers, results, strict=True)):
        assert s.failed_early == bool(i % 2)
        assert chunks == (SENTENCES[:4] if i % 2 else GOOD_SENTENCES)
    assert loopback.stats().max_in_flight == n  # all at once, not one after another
    assert elapsed < 2.0
    await backend.aclose()


GOOD_SENTENCES = [s.replace("forbidden", "fine") for s in SENTENCES[:6]]


async def test_timeout_bounds_the_whole_run(loopback: LoopbackServer) -> None:
    from mellea.core.errors import DeadlineExceededError

    loopback.configure(token_delay=0.05)
    loopback.enqueue(Reply(text=GOOD))
    backend = backend_for("ollama", loopback)
    async with await stream(
        Instruction("Write lines."), backend, SimpleContext(), requirements=[NoForbidden()],
        chunking="sentence", model_options={ModelOption.TIMEOUT: 0.4},
    ) as streamer:  # fmt: skip
        with pytest.raises(DeadlineExceededError) as caught:
            async for _ in streamer:
                pass
    assert caught.value.partial_output and GOOD.startswith(caught.value.partial_output)
    # The request had the same deadline: it ended (failed or cancelled), its text kept.
    assert not streamer.completed_normally and streamer.mot.error is not None
    assert loopback.wait_idle().for_path("/api/chat")[-1].client_disconnected
    await backend.aclose()


async def test_leaving_the_block_early_cancels_the_generation(loopback: LoopbackServer) -> None:
    loopback.configure(token_delay=0.02)
    loopback.enqueue(Reply(text=GOOD))
    backend = backend_for("ollama", loopback)
    async with await stream(
        Instruction("Write lines."), backend, SimpleContext(), chunking="sentence"
    ) as streamer:
        async for chunk in streamer:
            assert chunk == GOOD_SENTENCES[0]
            break
    assert streamer.mot.is_cancelled()
    record = loopback.wait_idle().for_path("/api/chat")[-1]
    assert record.client_disconnected and record.events_sent < len(GOOD.split())
    await backend.aclose()


async def test_a_backend_error_is_an_error_event_and_raised_to_the_reader(
    loopback: LoopbackServer,
) -> None:
    from mellea.core.errors import BackendStatusError
    from mellea.stdlib.streaming import ErrorEvent

    loopback.enqueue(Reply(status=400, error_body="bad request"))
    backend = backend_for("ollama", loopback)
    events = await stream(
        Instruction("x"), backend, SimpleContext(), requirements=[NoForbidden()], as_events=True
    )
    async with events:
        seen = [e async for e in events]
    assert [type(e) for e in seen] == [ErrorEvent, CompletedEvent]
    assert seen[0].exception_type == "BackendStatusError"  # type: ignore[attr-defined]
    assert not seen[1].success  # type: ignore[attr-defined]
    loopback.enqueue(Reply(status=400, error_body="bad request"))
    async with await stream(Instruction("x"), backend, SimpleContext()) as streamer:
        with pytest.raises(BackendStatusError):
            async for _ in streamer:
                pass
    await backend.aclose()
