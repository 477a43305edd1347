"""The cache over the embedded engine: its thread feeds the capture; hits skip the engine."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mellea.backends import ModelOption
from mellea.backends.local import LocalBackend
from mellea.backends.response_cache import CachedBackend
from mellea.stdlib.session import MelleaSession

pytestmark = pytest.mark.model
OPTIONS = {ModelOption.MAX_NEW_TOKENS: 12, ModelOption.STREAM: True}  # greedy by default


async def _chunks(mot: Any) -> list[str]:
    return [chunk async for chunk in mot]


async def test_embedded_answers_are_shared_cached_and_replayed() -> None:
    backend = CachedBackend(LocalBackend(n_threads=1))
    m = MelleaSession(backend)
    mots = [await m.ainstruct("Name a fruit.", model_options=OPTIONS) for _ in range(3)]
    streams = await asyncio.gather(*(_chunks(mot) for mot in mots))
    assert all("".join(chunks) == mots[0].value for chunks in streams) and mots[0].value
    stats = backend.stats  # (on a loaded machine a late one may find the answer stored)
    assert stats.misses == 1 and stats.shared + stats.hits == 2

    hit = await m.ainstruct("Name a fruit.", model_options=OPTIONS)
    assert await hit.avalue() == mots[0].value
    assert hit.generation.extra["cache"] == "hit"
    assert hit.generation.usage == mots[0].generation.usage
    sampled = await m.ainstruct("Name a fruit.", model_options={**OPTIONS, "temperature": 0.8})
    await sampled.avalue()
    assert sampled.generation.extra["cache"] == "bypass"
