"""Choosing how many decoding sequences go into one ``llama_decode`` call.

Batching N sequences is not always cheaper per token than decoding them in turn. On CPU
the gain depends on the matmul kernels llama.cpp picks for the batch size. Measured with
llama-cpp-python 0.3.36, SmolLM2-135M Q4_1, 1 thread (AVX2), ms per decode call:

    rows:        1     2     4     8
    ms/call:   6.9  16.8  26.5  43.4    -> ms/token 6.9, 8.4, 6.6, 5.4

Two rows cost 2.4x one row (the Q8_0 output matrix switches to a kernel with a large
fixed cost), so batching 2 streams would be 20% slower than alternating them. Rather than
hard-coding one machine's numbers, the cost is measured online (EMA of real decode-only
steps) and each step decodes either all ready sequences or one of them in turn, whichever
costs less per token; every stream still advances and streams at once.
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
        # Only "all rows" or "one row": any other subset would generally not be a run of
        # consecutive sequence ids, which llama.cpp splits into several ubatches anyway.
        return n_ready if self._ms[n_ready] / n_ready <= self._ms[1] else 1

    def record(self, rows: int, seconds: float) -> None:
        """Report the duration of a decode call that carried exactly ``rows`` decode rows
        (and no prompt tokens)."""
        ms = seconds * 1000.0
        old = self._ms.get(rows)
        self._ms[rows] = ms if old is None else old + self.ALPHA * (ms - old)

    def snapshot(self) -> dict[int, float]:
        return dict(sorted(self._ms.items()))


def plan_prefill(pending: list[tuple[int, int]], budget: int) -> list[tuple[int, int]]:
    """Choose the prompt pieces of one prefill step.

    ``pending`` holds (seq_id, prompt tokens still to decode) sorted by seq_id; returns
    (seq_id, tokens to feed now). Two llama.cpp facts shape this (non-unified KV):

    * A batch is cut into ubatches by ``split_equal`` with consecutive sequence ids only,
      taking the same number of tokens from every sequence of a ubatch. Pieces of
      different lengths therefore get sliced, possibly into 1-token slices.
    * A prompt token decoded as a 1-token slice of its sequence takes a different
      attention kernel path than inside a multi-token slice; the resulting KV differs
      in the last bits and later greedy tokens can differ from a solo run. Slices of
      any length >= 2 give bit-identical KV (measured).

    So a step is either one run of consecutive sequences with equal pieces, or a single
    sequence, and no piece leaves a 1-token remainder.
    """
    run = [pending[0]]
    for seq_id, remaining in pending[1:]:
        if seq_id != run[-1][0] + 1:
            break
        run.append((seq_id, remaining))
    if len(run) >= 2:
        k = min(min(r for _, r in run), budget // len(run))
        while k >= 2 and any(r - k == 1 for _, r in run):
            k -= 1
        if k >= 2:
            return [(seq_id, k) for seq_id, _ in run]
    seq_id, remaining = pending[0]
    k = min(remaining, budget)
    if remaining - k == 1:  # never leave a lone last token behind
        k = k + 1 if k + 1 <= budget else k - 1
    return [(seq_id, max(k, 1))]
