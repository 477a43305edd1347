"""Chunking: cutting a growing stream of text into the units streaming validation checks.

A `ChunkingStrategy` says where a stream's complete units end:

- `split(text)` returns every complete chunk of `text` and withholds the trailing
  fragment that may still grow. It is stateless: the same text, the same chunks.
- `flush(text)` is called once, when the stream ended naturally: it releases the
  withheld trailing fragment (or returns `[]` to drop it).

Built-ins: `WordChunking` (whitespace), `SentenceChunking` (`.`, `!`, `?` followed by
whitespace), `ParagraphChunking` (a blank line); the aliases `"word"`, `"sentence"`,
`"paragraph"` name them (`resolve_chunking_strategy`).

`Chunker` drives one strategy over one stream: `feed(delta)` returns the chunks that
became complete with that delta, `flush()` the rest at the end. For the built-ins it
rescans only the text after the last complete chunk (never the whole stream); a
custom strategy's `split` sees the whole accumulated text, as its contract says.
"""

from __future__ import annotations

import abc
import re

__all__ = [
    "Chunker",
    "ChunkingStrategy",
    "ParagraphChunking",
    "SentenceChunking",
    "WordChunking",
    "resolve_chunking_strategy",
]


class ChunkingStrategy(abc.ABC):
    """Where a stream's complete chunks end (see the module docstring)."""

    @abc.abstractmethod
    def split(self, text: str) -> list[str]:
        """Every complete chunk in `text`, without the trailing fragment."""

    @abc.abstractmethod
    def flush(self, text: str) -> list[str]:
        """At the end of the stream: the trailing fragment `split` withheld, if any."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _SeparatorChunking(ChunkingStrategy):
    """Chunks end where `_separator` matches; chunks are stripped, empty ones dropped."""

    _separator: re.Pattern[str]

    def split(self, text: str) -> list[str]:
        return self._cut(text)[0]

    def flush(self, text: str) -> list[str]:
        rest = text[self._cut(text)[1] :].strip()
        return [rest] if rest else []

    def _cut(self, text: str, start: int = 0) -> tuple[list[str], int]:
        """The complete chunks of `text[start:]` and the offset where the fragment begins."""
        chunks = []
        for match in self._separator.finditer(text, start):
            piece = text[start : match.start() + self._keep(match)].strip()
            if piece:
                chunks.append(piece)
            start = match.end()
        return chunks, start

    def _keep(self, match: re.Match[str]) -> int:
        """How much of the separator belongs to the chunk before it."""
        return 0


class WordChunking(_SeparatorChunking):
    """One chunk per whitespace-separated word (punctuation stays on its word)."""

    _separator = re.compile(r"\s+")


class SentenceChunking(_SeparatorChunking):
    """One chunk per sentence: text up to `.`, `!` or `?` (runs of them) plus whitespace."""

    _separator = re.compile(r"[.!?]+(?=\s)\s*")

    def _keep(self, match: re.Match[str]) -> int:
        return len(match.group().rstrip())


class ParagraphChunking(_SeparatorChunking):
    """One chunk per paragraph: text up to two or more consecutive newlines."""

    _separator = re.compile(r"\n[ \t]*\n\s*")


_ALIASES: dict[str, type[ChunkingStrategy]] = {
    "sentence": SentenceChunking,
    "word": WordChunking,
    "paragraph": ParagraphChunking,
}


def resolve_chunking_strategy(
    chunking: str | ChunkingStrategy | None,
) -> ChunkingStrategy | None:
    """An alias (`"word"`, `"sentence"`, `"paragraph"`) as its strategy; others unchanged.

    Raises `ValueError` for an unknown alias, `TypeError` for anything else.
    """
    if chunking is None or isinstance(chunking, ChunkingStrategy):
        return chunking
    if isinstance(chunking, str):
        cls = _ALIASES.get(chunking.strip().lower())
        if cls is None:
            raise ValueError(f"unknown chunking {chunking!r}; use one of {sorted(_ALIASES)}")
        return cls()
    raise TypeError(
        f"chunking must be 'word', 'sentence', 'paragraph' or a ChunkingStrategy, "
        f"not {type(chunking).__name__}"
    )


class Chunker:
    """One strategy applied to one stream: `feed(delta)` per delta, `flush()` at the end."""

    def __init__(self, strategy: ChunkingStrategy) -> None:
        self.strategy = strategy
        self._text: list[str] = []
        self._pending = ""  # built-ins: the text after the last complete chunk
        self._emitted = 0  # custom strategies: chunks of the whole text already returned
        self._incremental = isinstance(strategy, _SeparatorChunking) and (
            type(strategy).split is _SeparatorChunking.split
        )

    @property
    def text(self) -> str:
        """Everything fed so far."""
        if len(self._text) > 1:
            self._text = ["".join(self._text)]
        return self._text[0] if self._text else ""

    def feed(self, delta: str) -> list[str]:
        """The chunks completed by `delta` (possibly none)."""
        if not delta:
            return []
        self._text.append(delta)
        if self._incremental:
            assert isinstance(self.strategy, _SeparatorChunking)
            # A separator may begin in the old fragment ("end." + " next"): rescan it.
            self._pending += delta
            chunks, consumed = self.strategy._cut(self._pending)
            self._pending = self._pending[consumed:]
            return chunks
        chunks = self.strategy.split(self.text)
        new, self._emitted = chunks[self._emitted :], max(self._emitted, len(chunks))
        return new

    def flush(self) -> list[str]:
        """At the natural end of the stream: the withheld fragment, as the strategy says."""
        if self._incremental:
            rest, self._pending = self._pending, ""
            return self.strategy.flush(rest)
        return self.strategy.flush(self.text)
