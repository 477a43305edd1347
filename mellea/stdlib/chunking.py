"""The chunking strategies of streaming validation, under the docs' path.

One implementation: `mellea.core.chunking` (this module re-exports it).
"""

from ..core.chunking import (
    Chunker,
    ChunkingStrategy,
    ParagraphChunking,
    SentenceChunking,
    WordChunking,
    resolve_chunking_strategy,
)

__all__ = [
    "Chunker",
    "ChunkingStrategy",
    "ParagraphChunking",
    "SentenceChunking",
    "WordChunking",
    "resolve_chunking_strategy",
]
