"""Voting strategies: minimum-Bayes-risk choice by a string comparison you can override.

`BaseMBRDSampling(number_of_samples=8)` draws the samples concurrently and returns the
one most similar to all the others, by `compare_strings(ref, pred) -> float` in [0, 1]
(override it for your own notion of agreement). Samples that pass the requirements vote
(all of them, if none passes); `weighted=True` weights each voter by the share of
requirements it passed (`maybe_apply_weighted`).

- `MBRDRougeLStrategy` — `compare_strings` is ROUGE-L F1 over words.
- `MajorityVotingStrategyForMath` — `compare_strings` is 1.0 when two solutions have the
  same final answer (the last `\\boxed{}`, else the last number; `1/2`, `0.5` and
  `\\frac{1}{2}` agree, floats compared after `float_rounding` digits). It stops early
  — cancelling the samples still running — once one answer holds a strict majority.

Both keep the parallel strategies' properties: lazy, stateless, losers cancelled, usage
summed (see `parallel.py`).

Why the math comparison is hand-written (measured on 18 answer pairs: numbers, LaTeX
fractions, percents, roots, sets, intervals, polynomials): `math-verify` (HF, on
sympy) judged 16 right, `math_answer` 12 — but each comparison cost 32 ms against
75 µs, it brings sympy (80 MB), and its timeouts use SIGALRM, which works only on the
main thread. The vote is decided on mellea's I/O thread, where a slow or hanging sympy
simplification would stall every generation in flight. So the default covers what
numeric answers need (boxed, fractions, decimals, percents, scientific notation) with
no dependency; for symbolic answers, override `compare_strings` (for instance with
`math_verify.verify` run in a process pool).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from fractions import Fraction

from ...core.requirement import Requirement
from .parallel import ParallelSamplingStrategy, normalized_text
from .run import Attempt

_BOXED = re.compile(r"\\boxed\s*\{((?:[^{}]|\{[^{}]*\})*)\}")
_FRAC = re.compile(r"\\[dt]?frac\s*\{\s*(-?[\d.]+)\s*\}\s*\{\s*(-?[\d.]+)\s*\}")
_NUMBER = re.compile(
    r"(-?(?:\d[\d,]*(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?)(?:\s*/\s*(\d+))?(\s*\\?%)?"
)


def math_answer(text: str, float_rounding: int = 6) -> Hashable:
    """The final answer of a worked solution, canonicalised for comparison.

    The last `\\boxed{...}` (else the whole text); in it, LaTeX fractions become `a/b`;
    the last number is the answer, as an exact `Fraction` (`391`, `391.0`, `3.91e2`,
    `1,564/4` and `\\frac{782}{2}` agree, `50\\%` is `0.5`; rounded to `float_rounding`
    places). Without a number, the whitespace- and case-normalised text.
    """
    boxed = _BOXED.findall(text)
    candidate = boxed[-1] if boxed else text
    candidate = _FRAC.sub(r"\1/\2", candidate).replace("\\left", "").replace("\\right", "")
    numbers = _NUMBER.findall(candidate)
    if numbers:
        top, bottom, percent = numbers[-1]
        try:
            value = Fraction(top.replace(",", ""))
            if bottom:
                value /= Fraction(bottom)
            if percent:
                value /= 100
            return round(value, float_rounding)
        except (ValueError, ZeroDivisionError):
            pass
    return normalized_text(candidate.strip("$ "))


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


class BaseMBRDSampling(ParallelSamplingStrategy):
    """Minimum Bayes risk over concurrent samples by `compare_strings` (see module docs)."""

    def __init__(
        self,
        *,
        number_of_samples: int = 8,
        weighted: bool = False,
        loop_budget: int = 1,
        requirements: Sequence[Requirement | str] | None = None,
        token_budget: int | None = None,
    ) -> None:
        super().__init__(number_of_samples, requirements=requirements, token_budget=token_budget)
        self.number_of_samples = number_of_samples
        self.weighted = weighted
        self.loop_budget = loop_budget  # accepted for compatibility: one round of samples

    def compare_strings(self, ref: str, pred: str) -> float:
        """Agreement of two samples in [0, 1] (override this)."""
        return 1.0 if normalized_text(ref) == normalized_text(pred) else 0.0

    def maybe_apply_weighted(
        self, scr: list[list[float]], weights: Sequence[float] | None = None
    ) -> list[list[float]]:
        """`scr[i][j]` (agreement of i with voter j) times voter j's weight, if `weighted`."""
        if not self.weighted or weights is None:
            return scr
        return [[value * weights[j] for j, value in enumerate(row)] for row in scr]

    def _pool(self, validated: list[Attempt]) -> list[Attempt]:
        return [a for a in validated if a.passed] or validated

    def _consensus(self, pool: list[Attempt]) -> Attempt:
        texts = [a.mot.value or "" for a in pool]
        scores = [
            [self.compare_strings(t, u) if i != j else 0.0 for j, u in enumerate(texts)]
            for i, t in enumerate(texts)
        ]
        weights = []
        for a in pool:
            vals = [v for _, v in a.validations or []]
            weights.append(sum(1 for v in vals if v) / len(vals) if vals else 1.0)
        scores = self.maybe_apply_weighted(scores, weights)
        totals = [sum(row) for row in scores]
        return pool[max(range(len(pool)), key=totals.__getitem__)]  # earliest of ties

    def _decide(self, validated: list[Attempt], still_running: int) -> Attempt | None:
        if still_running:
            return None
        pool = self._pool(validated)
        return self._consensus(pool) if pool else None


class MBRDRougeLStrategy(BaseMBRDSampling):
    """The sample closest (ROUGE-L) to all the others."""

    def compare_strings(self, ref: str, pred: str) -> float:
        return rouge_l(ref, pred)


class MajorityVotingStrategyForMath(BaseMBRDSampling):
    """Majority vote on the final answer (see `math_answer`); stops at a strict majority."""

    def __init__(
        self,
        *,
        number_of_samples: int = 8,
        float_rounding: int = 6,
        strict: bool = True,
        allow_set_relation_comp: bool = False,
        weighted: bool = False,
        loop_budget: int = 1,
        requirements: Sequence[Requirement | str] | None = None,
        token_budget: int | None = None,
    ) -> None:
        super().__init__(
            number_of_samples=number_of_samples, weighted=weighted, loop_budget=loop_budget,
            requirements=requirements, token_budget=token_budget,
        )  # fmt: skip
        self.float_rounding = float_rounding
        self.strict = strict
        self.allow_set_relation_comp = allow_set_relation_comp

    def compare_strings(self, ref: str, pred: str) -> float:
        return 1.0 if self._answer(ref) == self._answer(pred) else 0.0

    def _answer(self, text: str) -> Hashable:
        return math_answer(text, self.float_rounding)

    def _decide(self, validated: list[Attempt], still_running: int) -> Attempt | None:
        pool = self._pool(validated)
        if not pool:
            return None
        leader = self._consensus(pool)
        votes = sum(
            1
            for a in pool
            if self.compare_strings(leader.mot.value or "", a.mot.value or "") == 1.0
        )
        if votes * 2 > len(validated) + still_running or still_running == 0:
            return leader
        return None


__all__ = [
    "BaseMBRDSampling",
    "MBRDRougeLStrategy",
    "MajorityVotingStrategyForMath",
    "math_answer",
    "rouge_l",
]
