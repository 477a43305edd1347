"""The typed events of a validated stream, in the order they happen.

For each attempt: `ChunkEvent`/`QuickCheckEvent` per chunk (the check comes first:
a chunk is delivered only once every requirement's quick check let it through), then
`StreamingDoneEvent` when the model's stream ended naturally, then
`FullValidationEvent`. A failing quick check ends the attempt at once: its
`QuickCheckEvent(passed=False)` is the attempt's last event. When another attempt
follows (a `loop_budget` above 1), `RetryEvent` starts it — the chunks of the failed
attempt are void from there on. `CompletedEvent` is always the last event of a run;
`ErrorEvent` precedes it when an exception ended the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...core.requirement import PartialValidationSummary, ValidationResult

__all__ = [
    "ChunkEvent",
    "CompletedEvent",
    "ErrorEvent",
    "FullValidationEvent",
    "QuickCheckEvent",
    "RetryEvent",
    "StreamEvent",
    "StreamingDoneEvent",
]


@dataclass
class StreamEvent:
    """Base of every streaming event."""


@dataclass
class ChunkEvent(StreamEvent):
    """A chunk that passed its quick checks and was delivered to the reader.

    `text` is the chunk's text; with `format=` the chunk is the partial object
    (`partial`), and `text` the JSON text it was built from.
    """

    text: str
    chunk_index: int
    attempt: int
    partial: Any = None


@dataclass
class QuickCheckEvent(StreamEvent):
    """Every requirement's `stream_validate` verdict on one chunk (`passed=False`: a fail)."""

    chunk_index: int
    attempt: int
    passed: bool
    results: list[PartialValidationSummary]


@dataclass
class StreamingDoneEvent(StreamEvent):
    """The model's stream of one attempt ended naturally (not after an early exit)."""

    attempt: int
    full_text: str


@dataclass
class FullValidationEvent(StreamEvent):
    """The final `validate()` of one attempt's whole output (requirements not failed early)."""

    attempt: int
    passed: bool
    results: list[ValidationResult]


@dataclass
class RetryEvent(StreamEvent):
    """A new attempt starts because the previous one failed (its chunks are void)."""

    attempt: int
    reason: str


@dataclass
class ErrorEvent(StreamEvent):
    """An exception ended the run (a backend error, a deadline, a failing validator)."""

    exception_type: str
    detail: str


@dataclass
class CompletedEvent(StreamEvent):
    """The run is over; always the last event. `success`: an attempt passed every check."""

    success: bool
    full_text: str
    attempts_used: int
