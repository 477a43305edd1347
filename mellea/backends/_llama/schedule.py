"""Choosing how many decoding sequences go into one ``llama_decode`` call.

Batching N sequences is not always cheaper per token than decoding them in turn. On CPU
the gain depends on the matmul kernels llama.cpp picks for the batch size. Measured with
llama-cpp-python 0.3.36, SmolLM2-135M Q4_1, 1 thread (AVX2), ms per decode call:

    rows:        1     2     4     8
    ms/call:   6.9  16.8  26.5  43.4    -> ms/token 6.9, 8.4, 6.6, 5.4

Two rows cost 2.4x one row (the Q8_0 output matrix switches to a kernel with a large
fixed cost), so batching 2 streams would be 20% slower than alternating them. Rather than
hard-coding one machine's numbers, the cost per row count is measured online (EMA of real
decode-only steps) and each step decodes the group size with the lowest known cost per
token; groups rotate round-robin, so every stream still advances and streams at once.
"""

from __future__ import annotations


class GroupSizer:
    """Online choice of the number of decode rows per step."""

    #: Re-measure the full batch this often (steps), so a noisy sample cannot stick.
    REPROBE_EVERY = 64
    ALPHA = 0.25  # EMA weight of a new sample

    def __init__(self) -> None:
        self._ms: dict[int, float] = {}  # rows -> EMA of decode-call milliseconds
        self._steps = 0

    def choose(self, n_ready: int) -> int:
        """How many of ``n_ready`` decoding sequences to feed in this step."""
        self._steps += 1
        if n_ready <= 1:
            return n_ready
        if n_ready not in self._ms or self._steps % self.REPROBE_EVERY == 0:
            return n_ready  # measure the full batch first (and now and then again)
        if 1 not in self._ms:
            return 1  # then the baseline: one row
        best, best_cost = n_ready, self._ms[n_ready] / n_ready
        for rows, ms in self._ms.items():
            if rows < n_ready and ms / rows < best_cost:
                best, best_cost = rows, ms / rows
        return best

    def record(self, rows: int, seconds: float) -> None:
        """Report the duration of a decode call that carried exactly ``rows`` decode rows
        (and no prompt tokens)."""
        ms = seconds * 1000.0
        old = self._ms.get(rows)
        self._ms[rows] = ms if old is None else old + self.ALPHA * (ms - old)

    def snapshot(self) -> dict[int, float]:
        return dict(sorted(self._ms.items()))
