"""Streaming validation on the real embedded model (SmolLM2-135M, one sequence slot)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from mellea.backends import ModelOption
from mellea.backends.local import LocalBackend
from mellea.core.backend import Backend
from mellea.core.context import Context
from mellea.core.requirement import PartialValidationResult, Requirement
from mellea.stdlib.components import Instruction
from mellea.stdlib.context import SimpleContext
from mellea.stdlib.streaming import stream

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def backend() -> LocalBackend:
    # One sequence slot: a leaked one would block the next generation for good.
    return LocalBackend(n_threads=1, max_sequences=1)


class FailOnThirdWord(Requirement):
    def __init__(self) -> None:
        super().__init__("At most two words.")
        self.words = 0
        self.text_at_failure = ""

    async def stream_validate(
        self, chunk: str, *, backend: Backend, ctx: Context
    ) -> PartialValidationResult:
        self.words += 1
        if self.words == 3:
            last = ctx.last_output()
            self.text_at_failure = last.partial_value if last is not None else ""  # type: ignore[union-attr]
            return PartialValidationResult("fail", reason="a third word")
        return PartialValidationResult("unknown")


async def test_failing_check_frees_the_sequence_before_its_next_token(
    backend: LocalBackend,
) -> None:
    requirement = FailOnThirdWord()
    options = {ModelOption.MAX_NEW_TOKENS: 200, ModelOption.SEED: 3}
    async with await stream(
        Instruction("Write a long story about a lighthouse keeper."), backend, SimpleContext(),
        requirements=[requirement], chunking="word", model_options=options,
    ) as streamer:  # fmt: skip
        chunks = [c async for c in streamer]
    assert len(chunks) == 2 and streamer.failed_early
    assert streamer.mot.is_cancelled()
    clone = streamer.streaming_failures[0][0]
    assert clone is requirement  # the caller's object is reported; a copy did the counting
    assert requirement.words == 0
    usage = streamer.mot.generation.usage or {}
    assert not streamer.mot.generation.extra.get("usage_estimated")  # the engine's own count
    # The engine stopped at the token that completed the third word (+1 in flight at most).
    seen = streamer.full_text
    assert usage["completion_tokens"] <= backend.engine.tokenize_count(seen) + 1
    assert usage["completion_tokens"] < 40
    nxt = await backend.generate_from_context(
        Instruction("Say hi."), SimpleContext(), model_options={ModelOption.MAX_NEW_TOKENS: 4}
    )
    assert (await nxt[0].avalue()).strip()  # the only slot is free again


class Pet(BaseModel):
    name: str
    age: int
    tags: list[str]


async def test_partial_objects_stream_from_grammar_constrained_json(backend: LocalBackend) -> None:
    seen: list[dict[str, Any]] = []
    async with await stream(
        Instruction("Describe a pet as JSON."), backend, SimpleContext(), format=Pet,
        model_options={ModelOption.MAX_NEW_TOKENS: 60, ModelOption.SEED: 1},
    ) as streamer:  # fmt: skip
        async for partial in streamer:
            assert isinstance(partial, Pet)
            seen.append(partial.model_dump())
    assert len(seen) >= 3  # it grew chunk by chunk
    if streamer.completed_normally:  # the output fit in the token limit
        final = streamer.mot.parsed_repr
        assert isinstance(final, Pet) and seen[-1] == final.model_dump()
