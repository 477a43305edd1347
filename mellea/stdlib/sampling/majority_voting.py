"""Voting strategies from Mellea's docs: `MajorityVotingStrategyForMath`, `MBRDRougeLStrategy`.

Both run their samples concurrently (see `parallel.py`).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING

from ...core.requirement import Requirement
from .parallel import MajorityVotingStrategy, ParallelSamplingStrategy, normalized_text
from .run import Attempt

if TYPE_CHECKING:
    pass

_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?")


def math_answer(text: str) -> Hashable:
    """The final answer of a worked solution: the last `\\boxed{}`, else the last number.

    Numbers compare by value (`391`, `391.0` and `1,564/4` agree); text answers fall back
    to the normalised text.
    """
    boxed = _BOXED.findall(text)
    candidate = boxed[-1] if boxed else None
    numbers = _NUMBER.findall(candidate if candidate is not None else text)
    if numbers:
        try:
            return Fraction(numbers[-1].replace(",", ""))
        except (ValueError, ZeroDivisionError):
            pass
    return normalized_text(candidate if candidate is not None else text)


class MajorityVotingStrategyForMath(MajorityVotingStrategy):
    """Majority vote on the numeric final answer of each sample."""

    def __init__(
        self,
        number_of_samples: int = 5,
        *,
        requirements: Sequence[Requirement | str] | None = None,
        token_budget: int | None = None,
    ) -> None:
        super().__init__(
            number_of_samples, key=math_answer, requirements=requirements,
            token_budget=token_budget,
        )  # fmt: skip


def _lcs(a: list[str], b: list[str]) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l(a: str, b: str) -> float:
    """ROUGE-L F1 of two texts (longest common subsequence of their words)."""
    wa, wb = a.split(), b.split()
    if not wa or not wb:
        return 0.0
    common = _lcs(wa, wb)
    if common == 0:
        return 0.0
    precision, recall = common / len(wa), common / len(wb)
    return 2 * precision * recall / (precision + recall)


class MBRDRougeLStrategy(ParallelSamplingStrategy):
    """Minimum Bayes risk decoding: the sample closest (ROUGE-L) to all the others."""

    def __init__(
        self,
        number_of_samples: int = 5,
        *,
        requirements: Sequence[Requirement | str] | None = None,
        token_budget: int | None = None,
    ) -> None:
        super().__init__(number_of_samples, requirements=requirements, token_budget=token_budget)

    def _decide(self, validated: list[Attempt], still_running: int) -> Attempt | None:
        if still_running:
            return None
        pool = [a for a in validated if a.passed] or validated
        if not pool:
            return None
        texts = [a.mot.value or "" for a in pool]

        def consensus(i: int) -> float:
            others = [rouge_l(texts[i], t) for j, t in enumerate(texts) if j != i]
            return sum(others) / len(others) if others else 0.0

        return pool[max(range(len(pool)), key=consensus)]


__all__ = ["MBRDRougeLStrategy", "MajorityVotingStrategyForMath", "math_answer", "rouge_l"]
