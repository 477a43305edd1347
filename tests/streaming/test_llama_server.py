"""Streaming validation end to end against a REAL third-party OpenAI-compatible server:
`llama_cpp.server` serving the embedded SmolLM2 (fixture: tests/servers/llama_server.py),
through `OpenAIBackend`. Generations stay small (<= 48 tokens, temperature 0, a seed)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from mellea.backends import ModelOption
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
from tests.servers.llama_server import RealLlamaServer

pytestmark = pytest.mark.llama_server
MAX_TOKENS = 48
OPTIONS = {
    ModelOption.MAX_NEW_TOKENS: MAX_TOKENS,
    ModelOption.TEMPERATURE: 0.0,
    ModelOption.SEED: 7,
}
DISCONNECTED = "Disconnected from client"  # what llama_cpp.server logs when it stops a stream


def backend(url: str) -> OpenAIBackend:
    return OpenAIBackend("smollm2", base_url=url, model_options=OPTIONS)


async def disconnects_logged_since(server: RealLlamaServer, b: Backend, before: int) -> int:
    """How many streams the server cut because the client hung up, since `before`.

    The server serves one request at a time under a lock it releases only after it logged
    how a stream ended; so once a follow-up request is answered in full, every earlier
    stream has ended — cut ("Disconnected from client") or run to its natural end.
    """
    follow_up, _ = await b.generate_from_context(
        Instruction("Say hi."), SimpleContext(), model_options={ModelOption.MAX_NEW_TOKENS: 2}
    )
    await follow_up.avalue()
    assert follow_up.generation.finish_reasons in (["stop"], ["length"])
    return server.log_text().count(DISCONNECTED) - before


class CharBudget(Requirement):
    """Fails the chunk that takes the attempt past `limit` characters (counts per attempt)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"At most {limit} characters.")
        self.limit = limit
        self.seen = 0

    async def stream_validate(
        self, chunk: str, *, backend: Backend, ctx: Context
    ) -> PartialValidationResult:
        self.seen += len(chunk)
        if self.seen > self.limit:
            return PartialValidationResult("fail", reason=f"{self.seen} characters")
        return PartialValidationResult("pass")

    async def validate(
        self, backend: Backend, ctx: Context, *, format: Any = None, model_options: Any = None
    ) -> ValidationResult:
        return ValidationResult(len(str(ctx.last_output())) <= self.limit)


async def test_failing_quick_check_cuts_the_real_request(
    llama_server_process: RealLlamaServer,
) -> None:
    b = backend(llama_server_process.url)
    disconnects_before = llama_server_process.log_text().count(DISCONNECTED)
    async with await stream(
        Instruction("Write a long story about the sea."), b, SimpleContext(),
        requirements=[CharBudget(20)], as_events=True, loop_budget=2,
    ) as events:  # fmt: skip
        seen = [e async for e in events]
    kinds = [type(e) for e in seen]
    # Two attempts, each cut by its quick check; a RetryEvent between them; exhausted.
    retry = kinds.index(RetryEvent)
    assert kinds.count(RetryEvent) == 1 and seen[retry].attempt == 2  # type: ignore[attr-defined]
    assert "characters" in seen[retry].reason  # type: ignore[attr-defined]
    for cut in (seen[retry - 1], seen[-2]):
        assert isinstance(cut, QuickCheckEvent) and not cut.passed
    assert StreamingDoneEvent not in kinds and FullValidationEvent not in kinds
    done = seen[-1]
    assert isinstance(done, CompletedEvent) and not done.success and done.attempts_used == 2
    assert events.failed_early and not events.completed_normally
    assert events.failure_reason and "characters" in events.failure_reason
    ((req, verdict),) = events.streaming_failures
    assert isinstance(req, CharBudget) and verdict.success == "fail"
    assert req.seen == 0  # the caller's requirement is untouched (copied per attempt)
    attempts = events._bound().attempts
    assert len(attempts) == 2
    for attempt in attempts:
        # Abandoned early: the text it had stays on it, well short of max_tokens.
        assert attempt.is_cancelled()
        assert len(attempt.partial_value) > 20, attempt.partial_value
        usage = attempt.generation.usage or {}
        assert attempt.generation.extra.get("usage_estimated") is True  # no final usage event
        assert 0 < usage["completion_tokens"] < MAX_TOKENS // 2, usage
    assert events.full_text == attempts[-1].partial_value
    assert events.usage["completion_tokens"] == sum(
        (a.generation.usage or {})["completion_tokens"] for a in attempts
    )
    # The server saw each hang-up and stopped generating that stream (its own log line).
    assert await disconnects_logged_since(llama_server_process, b, disconnects_before) == 2
    await b.aclose()


async def test_sampling_loop_abandons_real_attempts_and_reports_exhaustion(
    llama_server_process: RealLlamaServer, mellea_logs: pytest.LogCaptureFixture
) -> None:
    """`ainstruct(requirements=...)`: the loop's quick checks cut each real request."""
    m = MelleaSession(backend(llama_server_process.url), SimpleContext())
    disconnects_before = llama_server_process.log_text().count(DISCONNECTED)
    mot = await m.ainstruct(
        "Write a long story about a forest.", requirements=[CharBudget(20)],
        strategy=RepairTemplateStrategy(loop_budget=2),
    )  # fmt: skip
    value = await mot.avalue()
    result = mot.sampling_result
    # Exhausted as the docs say: not a success, the last attempt picked, a warning logged.
    assert result is not None and not result.success and len(result.sample_generations) == 2
    assert "returning attempt 2" in mellea_logs.text
    for attempt in result.sample_generations:
        assert attempt.is_cancelled() and len(attempt.partial_value) > 20
        usage = attempt.generation.usage or {}
        assert attempt.generation.extra.get("usage_estimated") is True
        assert 0 < usage["completion_tokens"] < MAX_TOKENS // 2, usage
    assert value == result.sample_generations[-1].partial_value  # the text it had
    assert (mot.generation.usage or {})["completion_tokens"] == sum(
        (a.generation.usage or {})["completion_tokens"] for a in result.sample_generations
    )
    assert await disconnects_logged_since(llama_server_process, m.backend, disconnects_before) == 2
    await m.backend.aclose()


class Pet(BaseModel):
    name: str
    age: int


async def test_typed_partial_objects_from_the_real_server(llama_server: str) -> None:
    b = backend(llama_server)
    snapshots: list[dict[str, Any]] = []
    async with await stream(
        Instruction("Describe a pet dog in JSON with its name and age."), b, SimpleContext(),
        format=Pet,
    ) as s:  # fmt: skip
        async for partial in s:
            assert isinstance(partial, Pet)
            snapshots.append(partial.model_dump())
    assert s.completed_normally, (s.failure_reason, s.full_text)
    final = s.mot.parsed_repr
    assert isinstance(final, Pet) and Pet.model_validate_json(s.mot.value or "") == final
    # Filled progressively: the name grows before the age arrives, then the age is set.
    assert snapshots[0]["age"] is None and snapshots[-1] == final.model_dump()
    names = [snap["name"] for snap in snapshots if snap["name"] is not None]
    assert len(names) >= 1 and all(final.name.startswith(n) for n in names)
    first_age = next(i for i, snap in enumerate(snapshots) if snap["age"] is not None)
    assert all(snap["age"] is None for snap in snapshots[:first_age])
    assert snapshots[first_age - 1] == {"name": final.name, "age": None}  # name done first
    await b.aclose()


class NoBacktick(Requirement):
    """Passes every chunk without a backtick (the model's plain prose has none)."""

    def __init__(self) -> None:
        super().__init__("No backticks.")

    async def stream_validate(
        self, chunk: str, *, backend: Backend, ctx: Context
    ) -> PartialValidationResult:
        return PartialValidationResult("fail" if "`" in chunk else "pass")

    async def validate(
        self, backend: Backend, ctx: Context, *, format: Any = None, model_options: Any = None
    ) -> ValidationResult:
        return ValidationResult("`" not in str(ctx.last_output()))


async def test_clean_stream_delivers_exactly_the_final_text(llama_server: str) -> None:
    b = backend(llama_server)
    opts = {ModelOption.MAX_NEW_TOKENS: 32}
    async with await stream(
        Instruction("Name three colors."), b, SimpleContext(), requirements=[NoBacktick()],
        as_events=True, model_options=opts,
    ) as events:  # fmt: skip
        seen = [e async for e in events]
    chunks = [e.text for e in seen if isinstance(e, ChunkEvent)]
    checks = [e for e in seen if isinstance(e, QuickCheckEvent)]
    assert len(chunks) >= 3 and len(checks) == len(chunks) and all(c.passed for c in checks)
    assert events.completed_normally and not events.failed_early
    value = events.mot.value
    assert value and "".join(chunks) == value == events.full_text
    assert [type(e) for e in seen[-3:]] == [StreamingDoneEvent, FullValidationEvent, CompletedEvent]
    assert seen[-1].success and seen[-1].full_text == value  # type: ignore[attr-defined]
    gen = events.mot.generation  # (llama_cpp.server sends no usage in a stream)
    assert gen.finish_reasons in (["stop"], ["length"]) and "usage_estimated" not in gen.extra
    await b.aclose()
