"""Chunking strategies: what each cuts, and that feeding any split gives the same chunks."""

from __future__ import annotations

import random

import pytest

from mellea.core.chunking import (
    Chunker,
    ChunkingStrategy,
    ParagraphChunking,
    SentenceChunking,
    WordChunking,
    resolve_chunking_strategy,
)

TEXT = (
    "First line here. Second one!  Third?\nStill third...\n\nNew paragraph. e.g. U.S. ok\n\n\n tail"
)


def test_built_in_strategies() -> None:
    assert SentenceChunking().split(TEXT) == [
        "First line here.", "Second one!", "Third?", "Still third...", "New paragraph.",
        "e.g.", "U.S.",
    ]  # fmt: skip
    assert SentenceChunking().flush(TEXT) == ["ok\n\n\n tail"]
    assert WordChunking().split("  a b\tc\n d") == ["a", "b", "c"]
    assert WordChunking().flush("  a b\tc\n d") == ["d"]
    assert ParagraphChunking().split(TEXT) == [
        "First line here. Second one!  Third?\nStill third...",
        "New paragraph. e.g. U.S. ok",
    ]
    assert ParagraphChunking().flush(TEXT) == ["tail"]
    assert SentenceChunking().flush("") == [] and SentenceChunking().split("") == []


class LineChunking(ChunkingStrategy):
    def split(self, text: str) -> list[str]:
        return text.split("\n")[:-1]

    def flush(self, text: str) -> list[str]:
        return [text.split("\n")[-1]] if text else []


@pytest.mark.parametrize(
    "strategy", [SentenceChunking(), WordChunking(), ParagraphChunking(), LineChunking()]
)
def test_any_split_of_the_stream_gives_the_same_chunks(strategy: ChunkingStrategy) -> None:
    expected = strategy.split(TEXT) + strategy.flush(TEXT)
    rng = random.Random(7)
    for _ in range(200):
        chunker, got, pos = Chunker(strategy), [], 0
        while pos < len(TEXT):
            step = rng.randint(1, 6)
            got += chunker.feed(TEXT[pos : pos + step])
            pos += step
        assert got + chunker.flush() == expected
        assert chunker.text == TEXT


def test_aliases() -> None:
    assert isinstance(resolve_chunking_strategy("Word"), WordChunking)
    assert isinstance(resolve_chunking_strategy(" paragraph "), ParagraphChunking)
    custom = LineChunking()
    assert resolve_chunking_strategy(custom) is custom and resolve_chunking_strategy(None) is None
    with pytest.raises(ValueError, match="unknown chunking 'lines'"):
        resolve_chunking_strategy("lines")
    with pytest.raises(TypeError):
        resolve_chunking_strategy(3)  # type: ignore[arg-type]
