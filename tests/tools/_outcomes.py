"""Rows of the sandbox-outcome table that `conftest.py` prints after the run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Outcome:
    tier: str
    snippet: str
    contained: str
    how: str
    seconds: float


OUTCOMES: list[Outcome] = []


def record(tier: str, snippet: str, contained: bool, how: str, seconds: float | None) -> None:
    OUTCOMES.append(Outcome(tier, snippet, "yes" if contained else "NO", how, seconds or 0.0))
