"""Per-sequence token samplers for the batched decoder.

``build_sampler`` creates a llama.cpp sampler chain equivalent to llama-cpp-python's
``Llama._init_sampler``. ``GreedyPenalized`` is a faster exact replacement for the most
common case (greedy, no grammar): llama.cpp's ``llama_sampler_sample`` copies all
49k logits into a candidate array on every call (~0.25 ms, ~4% of a decode step for
SmolLM2); here only the few penalized logits are touched and numpy does the argmax.
"""

from __future__ import annotations

import ctypes
import random
from collections import Counter, deque
from typing import Any

from .api import GenerationParams
from .grammar import GRAMMAR_ROOT

# llama_token_data {int32 id; float logit; float p}, as a numpy record for the candidates.
_TOKEN_DATA = [("id", "<i4"), ("logit", "<f4"), ("p", "<f4")]


def resolve_seed(params: GenerationParams) -> int:
    return params.seed if params.seed is not None else random.getrandbits(32)


def build_sampler(
    lc: Any, vocab: Any, n_vocab: int, params: GenerationParams, grammar: str | None
) -> Any:
    """A per-sequence sampler chain equivalent to ``Llama._init_sampler``.

    Same order and defaults as llama-cpp-python's high-level API, so greedy output matches a
    direct ``create_chat_completion`` call token for token. Raises ValueError on a grammar
    llama.cpp cannot parse. The caller frees the chain with ``llama_sampler_free``.
    """
    chain = lc.llama_sampler_chain_init(lc.llama_sampler_chain_default_params())

    def add(sampler: Any) -> None:
        lc.llama_sampler_chain_add(chain, sampler)

    try:
        add(
            lc.llama_sampler_init_penalties(
                n_vocab, params.penalty_last_n, params.repeat_penalty, 0.0, 0.0
            )
        )
        if grammar is not None:
            g = lc.llama_sampler_init_grammar(
                vocab, grammar.encode("utf-8"), GRAMMAR_ROOT.encode("utf-8")
            )
            if not g:
                raise ValueError("llama.cpp rejected the grammar (see its log for the parse error)")
            add(g)
        if params.temperature == 0.0:
            add(lc.llama_sampler_init_greedy())
        else:
            add(lc.llama_sampler_init_top_k(params.top_k))
            add(lc.llama_sampler_init_typical(1.0, 1))
            add(lc.llama_sampler_init_top_p(params.top_p, 1))
            add(lc.llama_sampler_init_min_p(params.min_p, 1))
            add(lc.llama_sampler_init_temp(params.temperature))
            add(lc.llama_sampler_init_dist(resolve_seed(params)))
    except BaseException:
        lc.llama_sampler_free(chain)
        raise
    return chain


class LlamaChainSampler:
    """Wraps a llama.cpp sampler chain (any settings, grammar included)."""

    def __init__(
        self, lc: Any, vocab: Any, n_vocab: int, params: GenerationParams, grammar: str | None
    ) -> None:
        self._lc = lc
        self._n_vocab = n_vocab
        self._chain = build_sampler(lc, vocab, n_vocab, params, grammar)

    def sample(self, ctx: Any, row: int) -> int:
        return int(self._lc.llama_sampler_sample(self._chain, ctx, row))

    def sample_with_scores(self, ctx: Any, row: int) -> tuple[int, Any]:
        """`sample`, also returning the scores the chain drew from: what is left of the
        candidates after penalties, grammar, top-k/top-p/min-p and temperature, every
        other token at -inf.

        Does what `llama_sampler_sample` does (apply the chain to every token's logit,
        take the selected token, accept it), on a candidate array we can read afterwards.
        """
        import numpy as np

        lc, n = self._lc, self._n_vocab
        logits = np.ctypeslib.as_array(lc.llama_get_logits_ith(ctx, row), shape=(n,))
        candidates = np.empty(n, dtype=_TOKEN_DATA)
        candidates["id"] = np.arange(n, dtype=np.int32)
        candidates["logit"] = logits
        candidates["p"] = 0.0
        array = lc.llama_token_data_array(
            data=candidates.ctypes.data_as(lc.llama_token_data_p),
            size=n,
            selected=-1,
            sorted=False,
        )
        lc.llama_sampler_apply(self._chain, ctypes.byref(array))
        if not 0 <= array.selected < array.size:
            raise RuntimeError("the sampler chain selected no token")
        kept = candidates[: array.size]  # samplers sort and shrink the array in place
        token = int(kept["id"][array.selected])
        lc.llama_sampler_accept(self._chain, token)
        scores = np.full(n, -np.inf, dtype=np.float32)
        scores[kept["id"]] = kept["logit"]
        return token, scores

    def free(self) -> None:
        if self._chain:
            self._lc.llama_sampler_free(self._chain)
            self._chain = None


class GreedyPenalized:
    """Greedy sampling with llama.cpp's repetition penalty, bit-for-bit.

    Mirrors ``llama_sampler_penalties_apply`` (frequency/presence penalties are 0, so only
    the repeat penalty applies: divide positive logits, multiply non-positive ones, in
    float32) over the last ``penalty_last_n`` sampled tokens, then takes the first maximum
    like ``llama_sampler_greedy``. The logits row belongs to llama.cpp but is only read by
    us and overwritten by the next decode, so it is penalized in place.
    """

    def __init__(self, lc: Any, n_vocab: int, params: GenerationParams) -> None:
        import numpy as np

        self._np = np
        self._lc = lc
        self._n_vocab = n_vocab
        self._penalty = np.float32(params.repeat_penalty)
        self._active = params.penalty_last_n != 0 and params.repeat_penalty != 1.0
        n = params.penalty_last_n
        # llama.cpp treats penalty_last_n == -1 as "the whole context"; a large window is
        # equivalent for our purposes.
        self._window: deque[int] = deque(maxlen=n if n > 0 else 1 << 20)
        self._counts: Counter[int] = Counter()

    @staticmethod
    def supports(params: GenerationParams, grammar: str | None) -> bool:
        return params.temperature == 0.0 and grammar is None

    def sample(self, ctx: Any, row: int) -> int:
        np = self._np
        logits = np.ctypeslib.as_array(
            self._lc.llama_get_logits_ith(ctx, row), shape=(self._n_vocab,)
        )
        if self._active:
            p = self._penalty
            for tok in self._counts:
                v = logits[tok]
                logits[tok] = v * p if v <= 0 else v / p
        token = int(logits.argmax())
        self._accept(token)
        return token

    def sample_with_scores(self, ctx: Any, row: int) -> tuple[int, Any]:
        """`sample`, also returning the penalized logits it took the maximum of."""
        token = self.sample(ctx, row)  # penalizes the row in place
        logits = self._np.ctypeslib.as_array(
            self._lc.llama_get_logits_ith(ctx, row), shape=(self._n_vocab,)
        )
        return token, logits.copy()

    def _accept(self, token: int) -> None:
        window = self._window
        if window.maxlen is not None and len(window) == window.maxlen:
            old = window[0]
            self._counts[old] -= 1
            if self._counts[old] == 0:
                del self._counts[old]
        window.append(token)
        self._counts[token] += 1

    def free(self) -> None:
        pass


def make_sampler(
    lc: Any, vocab: Any, n_vocab: int, params: GenerationParams, grammar: str | None
) -> LlamaChainSampler | GreedyPenalized:
    if GreedyPenalized.supports(params, grammar):
        return GreedyPenalized(lc, n_vocab, params)
    return LlamaChainSampler(lc, vocab, n_vocab, params, grammar)
