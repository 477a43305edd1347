"""Sampling on the real embedded model (SmolLM2-135M): the same loop, a real engine."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from mellea.backends import ModelOption
from mellea.backends.local import LocalBackend
from mellea.stdlib.requirements import req, simple_validate
from mellea.stdlib.sampling import BestOfNSamplingStrategy, RejectionSamplingStrategy
from mellea.stdlib.session import MelleaSession

pytestmark = pytest.mark.model
SHORT = {ModelOption.MAX_NEW_TOKENS: 16}


@pytest.fixture(scope="module")
def m() -> MelleaSession:
    return MelleaSession(LocalBackend(n_threads=1))


class Color(BaseModel):
    name: str


async def test_structured_output_with_requirements(m: MelleaSession) -> None:
    mot = await m.ainstruct(
        "Name a color.", format=Color, model_options={ModelOption.MAX_NEW_TOKENS: 30},
        requirements=[req("Short.", simple_validate(lambda x: len(x) < 200))],
        strategy=RejectionSamplingStrategy(loop_budget=2),
    )  # fmt: skip
    assert not mot.is_computed()
    await mot.avalue()
    result = mot.sampling_result
    assert result is not None and 1 <= len(result.sample_generations) <= 2
    if result.success:  # grammar-constrained: the JSON parses into the model
        assert isinstance(mot.parsed_repr, Color)
    usage = mot.generation.usage or {}
    assert usage["completion_tokens"] == sum(
        g.generation.usage["completion_tokens"]  # type: ignore[index]
        for g in result.sample_generations
    )


async def test_best_of_n_cancels_the_engines_losers(m: MelleaSession) -> None:
    long = {ModelOption.MAX_NEW_TOKENS: 48, ModelOption.SEED: 1}
    first_short = req("Anything.", simple_validate(lambda _: True))
    mot = await m.ainstruct(
        "Write a long story.", requirements=[first_short],
        strategy=BestOfNSamplingStrategy(n=3), model_options=long,
    )  # fmt: skip
    await mot.avalue()
    attempts = mot.attempts  # type: ignore[attr-defined]
    assert len(attempts) == 3 and all(a.is_computed() or a.is_cancelled() for a in attempts)
    # The engine is free again: a new generation runs normally.
    after = await m.ainstruct("Name a color.", model_options=SHORT)
    assert (await after.avalue()).strip()
