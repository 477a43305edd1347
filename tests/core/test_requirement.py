"""Requirement, ValidationResult and the streaming partial results (core defaults)."""

from __future__ import annotations

from typing import Any

import pytest

from mellea.backends.ollama import OllamaModelBackend
from mellea.core import (
    CBlock,
    ModelOutputThunk,
    PartialValidationResult,
    PartialValidationSummary,
    Requirement,
    ValidationResult,
    default_output_to_bool,
)
from mellea.core.context import Context
from mellea.stdlib.context import ChatContext, SimpleContext
from tests.servers import LoopbackServer, Reply


async def test_stream_validate_defaults_have_no_opinion() -> None:
    req = Requirement("be short")
    backend = OllamaModelBackend("m", base_url="http://127.0.0.1:9")  # never contacted
    ctx = SimpleContext()
    (result,) = await req.stream_validate("some text", backend=backend, ctx=ctx)
    assert result.success == "unknown" and not result and result.reason is None
    assert await req.stream_flush(backend=backend, ctx=ctx) == []
    flushed = await req.stream_validate("", backend=backend, ctx=ctx, flush=True)
    assert [r.success for r in flushed] == ["unknown"]


class Sentences(Requirement):
    """The docs' shape: an override returning one result per chunk."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} sentences")
        self.limit, self.count = limit, 0

    async def stream_validate(  # type: ignore[override]
        self, chunk: str, *, backend: Any, ctx: Context
    ) -> PartialValidationResult:
        self.count += chunk.count(".")
        if self.count > self.limit:
            return PartialValidationResult("fail", reason="too many sentences")
        return PartialValidationResult("unknown")


async def test_a_docs_style_override_summarises() -> None:
    req = Sentences(1)
    backend = OllamaModelBackend("m", base_url="http://127.0.0.1:9")
    first = await req.stream_validate("One.", backend=backend, ctx=SimpleContext())
    second = await req.stream_validate(" Two.", backend=backend, ctx=SimpleContext())
    assert PartialValidationSummary.from_results(first).success == "unknown"
    summary = PartialValidationSummary.from_results([first, second])
    assert summary.success == "fail" and summary.reason == "too many sentences"
    assert summary.failure is second


def test_partial_results_and_summaries() -> None:
    passed = PartialValidationResult("pass", reason="ok", score=0.9)
    assert passed.as_bool() and bool(passed) and passed.score == 0.9
    assert not PartialValidationResult("unknown").as_bool()
    with pytest.raises(ValueError):
        PartialValidationResult("maybe")  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        passed.success = "fail"  # type: ignore[misc]
    assert PartialValidationSummary.from_results([]).success == "unknown"
    all_pass = PartialValidationSummary.from_results([passed, passed])
    assert all_pass.success == "pass" and all_pass.failure is None and all_pass.reason is None


def test_default_output_to_bool_reads_the_first_verdict() -> None:
    assert default_output_to_bool("Yes, it does.")
    assert default_output_to_bool(x=CBlock("YES"))
    assert not default_output_to_bool("No, although one might say yes.")
    assert not default_output_to_bool(ModelOutputThunk("<think>yes?</think> no"))
    assert not default_output_to_bool("unclear")
    assert Requirement("r").output_to_bool is default_output_to_bool


async def test_a_raising_validator_fails_with_its_error() -> None:
    def broken(ctx: Context) -> bool:
        raise KeyError("field")

    req = Requirement("has field", broken)
    ctx = SimpleContext().add(ModelOutputThunk("{}"))
    backend = OllamaModelBackend("m", base_url="http://127.0.0.1:9")
    result = await req.validate(backend, ctx)
    assert not result and isinstance(result.error, KeyError) and "KeyError" in (result.reason or "")
    assert ValidationResult(True).error is None


async def test_an_unreadable_judge_answer_fails_with_its_error(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text="Perhaps."))

    def strict(answer: Any) -> bool:
        raise ValueError(f"not yes/no: {answer.value}")

    req = Requirement("be polite", output_to_bool=strict)
    ctx = ChatContext().add(CBlock("Say hi.")).add(ModelOutputThunk("hi"))
    result = await req.validate(OllamaModelBackend("m", base_url=loopback.url), ctx)
    assert not result and isinstance(result.error, ValueError)
    assert result.thunk is not None and result.reason == "Perhaps."
