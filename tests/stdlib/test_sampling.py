"""Sequential sampling strategies, run lazily behind the returned thunk."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest
from pydantic import BaseModel

from mellea.backends import ModelOption
from mellea.backends.ollama import OllamaModelBackend
from mellea.core import Context, ModelOutputThunk, SamplingResult
from mellea.core.errors import DeadlineExceededError, GenerationCancelled, InvalidOptionError
from mellea.stdlib import functional as mfuncs
from mellea.stdlib.context import ChatContext, SimpleContext
from mellea.stdlib.requirements import req, simple_validate
from mellea.stdlib.sampling import (
    BaseSamplingStrategy,
    MultiTurnStrategy,
    RejectionSamplingStrategy,
    RepairTemplateStrategy,
    SampledThunk,
)
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer, Reply

JUDGE = "Decide whether"


def session(srv: LoopbackServer, ctx: Context | None = None) -> MelleaSession:
    return MelleaSession(OllamaModelBackend("m", base_url=srv.url), ctx)


def bodies(srv: LoopbackServer) -> list[dict[str, Any]]:
    return [r.body for r in srv.stats().for_path("/api/chat")]


def banana() -> Any:
    """Passes only for text containing BANANA; says why otherwise."""
    return req(
        "Mention the fruit.",
        validation_fn=simple_validate(lambda x: ("BANANA" in x, "the word BANANA is missing")),
    )


async def test_returns_at_once_and_repair_prompt_carries_the_reason(
    loopback: LoopbackServer,
) -> None:
    loopback.enqueue(Reply(text="a first draft", ttft=0.2), Reply(text="BANANA split"))
    m = session(loopback)
    t0 = time.perf_counter()
    mot = await m.ainstruct(
        "Write a dessert.", requirements=[banana()], strategy=RepairTemplateStrategy(loop_budget=3)
    )
    assert time.perf_counter() - t0 < 0.1 and not mot.is_computed()
    assert isinstance(mot, SampledThunk)
    assert await mot.avalue() == "BANANA split"
    result = mot.sampling_result
    assert result is not None and result.success and result.result_index == 1
    assert [g.value for g in result.sample_generations] == ["a first draft", "BANANA split"]
    assert mot.generation.extra["sampling"] is result
    first, second = (b["messages"][-1]["content"] for b in bodies(loopback))
    assert "the word BANANA is missing" not in first
    assert "Mention the fruit." in second and "the word BANANA is missing" in second
    assert isinstance(result.result_action, type(result.sample_actions[0]))
    assert m.ctx.last_output() is mot  # the session's history holds the selected answer


def test_default_strategy_is_rejection_with_two_attempts(
    loopback: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="mellea")
    loopback.enqueue(Reply(text="one"), Reply(text="two"))
    m = session(loopback)
    mot = m.instruct("Write.", requirements=[banana()])
    assert mot.value == "two"  # every attempt failed: the last one, with a warning
    assert mot.sampling_result is not None and not mot.sampling_result.success
    assert "no attempt passed every requirement (2 attempts)" in caplog.text
    first, second = (b["messages"][-1]["content"] for b in bodies(loopback))
    assert first == second  # rejection sampling retries the same prompt


@pytest.mark.parametrize("budget", [1, 4])
def test_loop_budget_is_respected(loopback: LoopbackServer, budget: int) -> None:
    m = session(loopback)
    result = m.instruct(
        "Write.", requirements=[banana()], strategy=RejectionSamplingStrategy(loop_budget=budget),
        return_sampling_results=True,
    )  # fmt: skip
    assert isinstance(result, SamplingResult)
    assert len(result.sample_generations) == budget == loopback.stats().total_requests
    assert [len(v) for v in result.sample_validations] == [1] * budget
    requirement, verdict = result.sample_validations[0][0]
    assert requirement.description == "Mention the fruit." and not verdict
    assert verdict.reason == "the word BANANA is missing"


async def test_multi_turn_feeds_failures_back_as_a_user_turn(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply(text="no fruit here", match="dessert"), Reply(text="BANANA!", match="not been met")
    )
    m = session(loopback, ChatContext())
    await m.achat("Hello")
    mot = await m.ainstruct(
        "Write a dessert.", requirements=[banana()], strategy=MultiTurnStrategy(loop_budget=2)
    )
    assert await mot.avalue() == "BANANA!"
    repair = bodies(loopback)[-1]["messages"]
    assert [msg["role"] for msg in repair] == ["user", "assistant", "user", "assistant", "user"]
    assert repair[3]["content"] == "no fruit here"
    assert "not been met" in repair[4]["content"]
    assert "the word BANANA is missing" in repair[4]["content"]
    # The session's history gets the instruction and the selected answer only.
    assert len(m.ctx) == 4 and m.ctx.last_output() is mot


def test_multi_turn_also_works_on_a_simple_context(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text="plain"), Reply(text="BANANA", match="not been met"))
    m = session(loopback)
    mot = m.instruct("Write.", requirements=[banana()], strategy=MultiTurnStrategy(loop_budget=2))
    assert mot.value == "BANANA"
    assert [msg["content"] for msg in bodies(loopback)[-1]["messages"]][1] == "plain"


async def test_return_sampling_results_async_and_functional(loopback: LoopbackServer) -> None:
    m = session(loopback)
    loopback.enqueue(Reply(text="BANANA"))
    result = await m.ainstruct("Write.", requirements=[banana()], return_sampling_results=True)
    assert isinstance(result, SamplingResult) and result.success and str(result) == "BANANA"
    assert result.result_validations[0][1].result
    # Without requirements it is one sample that trivially succeeds.
    plain, ctx = await mfuncs.aact(
        m.ctx.last_turn().input,
        SimpleContext(),
        m.backend,
        return_sampling_results=True,  # type: ignore[union-attr,arg-type]
    )
    assert isinstance(plain, SamplingResult) and plain.success and len(ctx) == 2


async def test_nothing_to_validate_returns_the_plain_thunk(loopback: LoopbackServer) -> None:
    loopback.configure(token_delay=0.02)
    m = session(loopback)
    mot = await m.ainstruct("Write.", model_options={ModelOption.STREAM: True})
    assert type(mot) is ModelOutputThunk and mot.sampling_result is None
    chunks = [c async for c in mot]
    assert "".join(chunks) == mot.value == "Echo: Write." and len(chunks) > 1


async def test_streaming_releases_only_validated_text(loopback: LoopbackServer) -> None:
    loopback.configure(token_delay=0.01)
    loopback.enqueue(Reply(text="rejected draft text"), Reply(text="the BANANA answer"))
    m = session(loopback)
    mot = await m.ainstruct(
        "Write.", requirements=[banana()], model_options={ModelOption.STREAM: True}
    )
    assert isinstance(mot, SampledThunk)
    live: dict[int, list[str]] = {}

    async def watch_attempts() -> None:  # what a UI showing live drafts would do
        async for attempt in mot.aiter_attempts():
            live[len(live)] = [chunk async for chunk in attempt]

    watcher = asyncio.create_task(watch_attempts())
    chunks = [chunk async for chunk in mot]
    await watcher
    assert "".join(chunks) == mot.value == "the BANANA answer"
    assert "rejected" not in "".join(chunks)
    assert ["".join(c) for c in live.values()] == ["rejected draft text", "the BANANA answer"]
    assert len(live[0]) > 1  # the attempts really streamed
    assert await mot.astream() == ""


class Person(BaseModel):
    name: str
    age: int


def test_format_parses_and_bad_output_is_a_failed_sample(loopback: LoopbackServer) -> None:
    m = session(loopback)
    good = m.instruct("A person.", format=Person)  # default: minimal schema instance
    assert good.value == '{"name": "x", "age": 1}'
    assert good.parsed_repr == Person(name="x", age=1)
    loopback.enqueue(Reply(text='{"name": "Ann"}'))  # missing age: does not validate
    mot = m.instruct("A person.", format=Person)
    result = mot.sampling_result
    assert result is not None and result.success and len(result.sample_generations) == 2
    parse_req, verdict = result.sample_validations[0][0]
    assert "Person" in (parse_req.description or "") and not verdict
    assert "age" in (verdict.reason or "")
    assert isinstance(mot.parsed_repr, Person) and mot.value == '{"name": "x", "age": 1}'
    loopback.enqueue(Reply(text="nope", times=2))
    failed = m.instruct("A person.", format=Person)
    assert failed.value == "nope" and failed.parsed_repr is None  # never a wrong object
    assert "parse_error" in failed.generation.extra
    assert not failed.sampling_result.success  # type: ignore[union-attr]


def test_chat_with_format_is_a_single_checked_generation(loopback: LoopbackServer) -> None:
    m = session(loopback)
    reply = m.chat("A person?", format=Person)
    assert str(reply) == '{"name": "x", "age": 1}'
    assert loopback.stats().total_requests == 1


def test_usage_sums_attempts_and_judges(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text="no", match=JUDGE), Reply(text="yes", match=JUDGE))
    m = session(loopback)
    mot = m.instruct("Write.", requirements=["Be nice."])
    result = mot.sampling_result
    assert result is not None and result.success and len(result.sample_generations) == 2
    judges = [v.thunk for vals in result.sample_validations for _, v in vals]
    parts = [*result.sample_generations, *judges]
    assert all(p is not None and p.generation.usage for p in parts)
    expected = {
        k: sum(p.generation.usage[k] for p in parts)  # type: ignore[union-attr,index]
        for k in ("prompt_tokens", "completion_tokens", "total_tokens")
    }
    assert mot.generation.usage == result.usage == expected
    assert expected["total_tokens"] > 0


def test_token_budget_stops_before_the_next_request(loopback: LoopbackServer) -> None:
    m = session(loopback)
    strategy = RejectionSamplingStrategy(loop_budget=5, token_budget=1)
    mot = m.instruct("Write.", requirements=[banana()], strategy=strategy)
    result = mot.sampling_result
    assert result is not None and result.budget_exhausted and not result.success
    assert loopback.stats().total_requests == 1


async def test_timeout_is_one_deadline_for_the_whole_loop(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply(text="first miss", ttft=0.6), Reply(text="slow words " * 30, token_delay=0.1)
    )
    m = session(loopback)
    t0 = time.perf_counter()
    mot = await m.ainstruct(
        "Write.", requirements=[banana()], strategy=RejectionSamplingStrategy(loop_budget=3),
        model_options={ModelOption.TIMEOUT: 1.0, ModelOption.STREAM: True},
    )  # fmt: skip
    with pytest.raises(DeadlineExceededError) as info:
        await mot.avalue()
    # ~1.0 s; a deadline per request would give the second attempt a full second (1.6 s).
    assert time.perf_counter() - t0 < 1.45
    assert isinstance(mot, SampledThunk) and len(mot.attempts) == 2
    assert info.value.partial_output == mot.attempts[1].partial_value  # the running attempt's
    assert mot.sampling_result is not None and len(mot.sampling_result.sample_generations) == 1
    assert m.ctx.last_output() is mot and mot.error is info.value


async def test_deadline_keeps_the_partial_output(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text="slow words " * 30, token_delay=0.1))
    m = session(loopback)
    mot = await m.ainstruct(
        "Write.", requirements=[banana()],
        model_options={ModelOption.TIMEOUT: 0.5, ModelOption.STREAM: True},
    )  # fmt: skip
    with pytest.raises(DeadlineExceededError) as info:
        await mot.avalue()
    assert info.value.partial_output.startswith("slow words")
    assert mot.sampling_result is not None and not mot.sampling_result.sample_generations


async def test_cancelling_the_thunk_cancels_the_running_attempt(loopback: LoopbackServer) -> None:
    loopback.configure(ttft=5.0)
    m = session(loopback)
    mot = await m.ainstruct("Write.", requirements=[banana()])
    await asyncio.to_thread(loopback.wait_for, lambda s: s.in_flight == 1)
    await mot.acancel()
    assert mot.is_cancelled() and isinstance(mot.error, GenerationCancelled)
    stats = await asyncio.to_thread(loopback.wait_for, lambda s: s.disconnects == 1)
    assert stats.total_requests == 1


class LastResort(BaseSamplingStrategy):
    """The docs' custom strategy: plain rejection sampling, keeping the last attempt."""

    @staticmethod
    def repair(old_ctx, new_ctx, past_actions, past_results, past_val):  # type: ignore[no-untyped-def,override]
        return past_actions[-1], old_ctx

    @staticmethod
    def select_from_failure(sampled_actions, sampled_results, sampled_val):  # type: ignore[no-untyped-def,override]
        return 0


def test_custom_base_sampling_strategy(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text="first"), Reply(text="second"))
    m = session(loopback)
    mot = m.instruct("Write.", requirements=[banana()], strategy=LastResort(loop_budget=2))
    assert mot.value == "first"  # its select_from_failure picked attempt 0


async def test_32_concurrent_calls_with_two_requirements_overlap(
    loopback: LoopbackServer,
) -> None:
    loopback.configure(ttft=0.5)
    loopback.enqueue(Reply(text="Yes.", match=JUDGE, times=-1))
    m = session(loopback)
    shared = RejectionSamplingStrategy(loop_budget=2)  # one instance serves every call
    reqs = ["Be polite.", req("short", validation_fn=simple_validate(lambda x: len(x) < 200))]
    t0 = time.perf_counter()
    thunks = [await m.ainstruct(f"task {i}", requirements=reqs, strategy=shared) for i in range(32)]
    issued = time.perf_counter() - t0
    assert not any(t.is_computed() for t in thunks)  # every call returned before its loop
    values = await asyncio.gather(*(t.avalue() for t in thunks))
    wall = time.perf_counter() - t0
    assert issued < 0.5, issued
    assert values == [f"Echo: task {i}\n\nRequirements:\n- Be polite.\n- short" for i in range(32)]
    assert all(t.sampling_result and t.sampling_result.success for t in thunks)
    stats = loopback.stats(include_requests=False)
    assert stats.total_requests == 64 and stats.max_in_flight >= 32
    # One attempt (0.5 s) then its judge (0.5 s), all 32 calls at once: ~1 s, not 32 s.
    assert wall < 2.5, wall
    logging.getLogger("mellea.tests").info("32 x ainstruct with 2 requirements: %.2f s", wall)


def test_a_requirement_with_nothing_to_check_fails_before_any_request(
    loopback: LoopbackServer,
) -> None:
    m = session(loopback)
    with pytest.raises(InvalidOptionError, match="neither a description"):
        m.instruct("Write.", requirements=[req(None)])
    assert loopback.stats().total_requests == 0


async def test_next_chat_turn_waits_for_the_validated_answer(loopback: LoopbackServer) -> None:
    loopback.configure(ttft=0.1)
    loopback.enqueue(Reply(text="draft", match="dessert"), Reply(text="BANANA", match="dessert"))
    m = session(loopback, ChatContext())
    mot = await m.ainstruct("Write a dessert.", requirements=[banana()])
    reply = await m.achat("Thanks!")  # issued while the loop is still running
    history = bodies(loopback)[-1]["messages"]
    assert [msg["content"] for msg in history][1:] == ["BANANA", "Thanks!"]
    assert str(reply) == "Echo: Thanks!" and mot.is_computed()
    assert mot.generation.ttfb_ms is not None and mot.generation.ttfb_ms >= 200
