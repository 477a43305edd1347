"""Parallel strategies: n samples at once, losers cancelled (the server sees disconnects)."""

from __future__ import annotations

import asyncio
import logging
import time
from fractions import Fraction

from mellea.backends import ModelOption
from mellea.backends.ollama import OllamaModelBackend
from mellea.stdlib.requirements import req, simple_validate
from mellea.stdlib.sampling import (
    BestOfNSamplingStrategy,
    BestofNSamplingStrategy,
    MajorityVotingStrategy,
    SampledThunk,
)
from mellea.stdlib.sampling.majority_voting import (
    MajorityVotingStrategyForMath,
    MBRDRougeLStrategy,
    math_answer,
    rouge_l,
)
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer, Reply

SLOW = 3.0  # seconds a loser would take if it were not cancelled


def session(srv: LoopbackServer) -> MelleaSession:
    return MelleaSession(OllamaModelBackend("m", base_url=srv.url))


def good() -> object:
    return req("Be good.", validation_fn=simple_validate(lambda x: "good" in x))


async def test_best_of_4_returns_the_first_pass_and_cancels_the_losers(
    loopback: LoopbackServer,
) -> None:
    loopback.configure(ttft=SLOW)
    loopback.enqueue(Reply(text="bad one", ttft=0.05), Reply(text="a good one", ttft=0.15))
    m = session(loopback)
    t0 = time.perf_counter()
    mot = await m.ainstruct("Write.", requirements=[good()], strategy=BestOfNSamplingStrategy(n=4))
    assert isinstance(mot, SampledThunk) and not mot.is_computed()
    assert await mot.avalue() == "a good one"
    elapsed = time.perf_counter() - t0
    result = mot.sampling_result
    assert result is not None and result.success
    assert [g.value for g in result.sample_generations] == ["bad one", "a good one"]
    assert len(mot.attempts) == 4 and sum(a.is_cancelled() for a in mot.attempts) == 2
    stats = await asyncio.to_thread(loopback.wait_for, lambda s: s.disconnects >= 2)
    assert stats.total_requests == 4 and stats.max_in_flight == 4  # all started at once
    assert stats.disconnects == 2 and sum(r.client_disconnected for r in stats.requests) == 2
    assert elapsed < SLOW / 2, elapsed
    logging.getLogger("mellea.tests").info(
        "best-of-4: %.2f s, %d losers cancelled", elapsed, stats.disconnects
    )


async def test_best_of_n_without_a_pass_picks_the_best_failure(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text="meh"), Reply(text="good enough"), Reply(text="meh"))
    m = session(loopback)
    strict = req("Long.", validation_fn=simple_validate(lambda x: len(x) > 100))
    mot = await m.ainstruct(
        "Write.", requirements=[strict, good()], strategy=BestofNSamplingStrategy(n=3)
    )
    assert await mot.avalue() == "good enough"  # passes 1 of 2 requirements, others 0
    assert mot.sampling_result is not None and not mot.sampling_result.success
    assert len(mot.sampling_result.sample_generations) == 3


async def test_best_of_n_wait_for_all_takes_the_best_score(loopback: LoopbackServer) -> None:
    from mellea.core import Context, ValidationResult

    def scored(ctx: Context) -> ValidationResult:
        text = ctx.last_output().value or ""  # type: ignore[union-attr]
        return ValidationResult(True, score=len(text) / 100)

    loopback.enqueue(Reply(text="short", ttft=0.0), Reply(text="much longer text", ttft=0.1))
    m = session(loopback)
    strategy = BestOfNSamplingStrategy(n=2, wait_for_all=True)
    mot = await m.ainstruct("Write.", requirements=[req("s", scored)], strategy=strategy)
    assert await mot.avalue() == "much longer text"


async def test_samples_get_distinct_seeds(loopback: LoopbackServer) -> None:
    m = session(loopback)
    mot = await m.ainstruct(
        "Write.", strategy=BestOfNSamplingStrategy(n=3, wait_for_all=True),
        model_options={ModelOption.SEED: 7},
    )  # fmt: skip
    await mot.avalue()
    seeds = sorted(r.body["options"]["seed"] for r in loopback.stats().requests)
    assert seeds == [7, 8, 9]


async def test_majority_vote_stops_at_a_strict_majority(loopback: LoopbackServer) -> None:
    loopback.configure(ttft=SLOW)
    loopback.enqueue(
        Reply(text="The answer is 42.", ttft=0.05),
        Reply(text="41", ttft=0.1),
        Reply(text="the answer  is 42.", ttft=0.15),
        Reply(text="THE ANSWER IS 42.", ttft=0.2),
    )
    m = session(loopback)
    t0 = time.perf_counter()
    mot = await m.ainstruct("What?", strategy=MajorityVotingStrategy(number_of_samples=5))
    assert await mot.avalue() == "The answer is 42."  # 3 of 5 agree once normalised
    assert time.perf_counter() - t0 < SLOW / 2
    stats = await asyncio.to_thread(loopback.wait_for, lambda s: s.disconnects >= 1)
    assert stats.disconnects == 1 and stats.total_requests == 5


async def test_majority_vote_counts_only_passing_samples(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply(text="bad 1"), Reply(text="bad 1"), Reply(text="good 2"), Reply(text="bad 1")
    )
    m = session(loopback)
    strategy = MajorityVotingStrategy(number_of_samples=4, requirements=[good()])
    result = await m.ainstruct("What?", strategy=strategy, return_sampling_results=True)
    assert result.success and str(result) == "good 2"


async def test_majority_voting_for_math_compares_values(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply(text="17*23 = 391"),
        Reply(text="So the result is \\boxed{391.0}"),
        Reply(text="I get 381"),
    )
    m = session(loopback)
    result = await m.ainstruct(
        "What is 17 x 23?", strategy=MajorityVotingStrategyForMath(number_of_samples=3),
        return_sampling_results=True,
    )  # fmt: skip
    assert math_answer(str(result)) == Fraction(391)
    assert math_answer("1,564/4") == Fraction(391) and math_answer("no digits") == "no digits"


async def test_mbrd_rouge_l_picks_the_consensus(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply(text="the cat sat on the mat"),
        Reply(text="a completely different answer"),
        Reply(text="the cat sat on a mat"),
    )
    m = session(loopback)
    mot = await m.ainstruct("Describe.", strategy=MBRDRougeLStrategy(number_of_samples=3))
    assert (await mot.avalue()).startswith("the cat sat on")
    assert rouge_l("a b c", "a b c") == 1.0 and rouge_l("a", "") == 0.0
