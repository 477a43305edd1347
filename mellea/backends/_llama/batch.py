"""Multi-sequence batched decoding on llama-cpp-python's low-level API.

Each step is one ``llama_decode`` call: either the next token of every running sequence
(all at once or in turn, see ``schedule.GroupSizer``) or a piece of newcomers' prompts
(see ``schedule.plan_prefill``), so all jobs stream at once instead of queueing.

Choices that matter for correctness (measured with llama-cpp-python 0.3.36):
  * ``kv_unified=False`` and flash attention off: each sequence then has its own KV
    stream and attends over exactly its own cells, so a sequence's logits do not depend
    on its batch neighbours and greedy output equals the solo run token for token.
    With a unified KV buffer the outputs diverged.
  * With ``kv_unified=False`` llama.cpp splits ``n_ctx`` evenly across ``n_seq_max``
    streams, so the context is sized ``n_ctx * max_sequences`` to give every sequence
    the full ``n_ctx`` window. The KV memory is allocated up front: for SmolLM2-135M it
    is ~22.5 KiB per token, i.e. ~90 MiB per 4096-token slot.
  * llama.cpp only batches runs of consecutive sequence ids into one ubatch (its
    ``split_equal`` for non-unified KV), so decode rows are sorted by id and new jobs
    take the lowest suitable free id.
  * Prefix reuse: a finished sequence's KV stays in its slot; a new job goes to the free
    slot sharing the longest token prefix with its prompt and only the rest is prefilled
    (chat turns and shared system prompts). Values are unaffected: each stream keeps
    its cells at the same indices, and prompt pieces of >= 2 tokens give bit-identical
    KV whatever their length.

All methods run on the engine's owner thread (llama.cpp contexts are not thread-safe).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from .api import ModelLoadError, PromptTooLongError
from .grammar import grammar_for
from .job import Job
from .llama_utils import COMPUTE_LOCK, ChatFormatter, PieceDecoder, import_llama_cpp, tokenize
from .sampling import GreedyPenalized, LlamaChainSampler, make_sampler
from .schedule import GroupSizer, plan_prefill
from .text import OutputTracker


@dataclass(eq=False)
class _Slot:
    seq_id: int
    job: Job
    tracker: OutputTracker
    sampler: GreedyPenalized | LlamaChainSampler
    prompt: list[int]
    n_past: int = 0  # positions of this sequence already in the KV cache
    next_token: int | None = None  # sampled, not yet fed back (None while prefilling)
    logits_row: int = -1  # row of this sequence's logits in the current batch, -1 if none
    last_fed: int = 0  # step number of the last decode row (round-robin order)


class BatchDecoder:
    """Owns one llama model + context with ``max_sequences`` independent sequence slots."""

    def __init__(
        self,
        model_path: str,
        *,
        n_ctx: int,
        n_threads: int,
        max_sequences: int,
        n_batch: int = 512,
        prefill_chunk: int = 64,
        verbose: bool = False,
        llama_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.model_path = model_path
        self.capacity = max_sequences
        self._n_ctx = n_ctx
        self._n_threads = n_threads
        self._n_batch = n_batch
        # While other sequences are decoding, a newcomer's prompt is fed at most this many
        # tokens per step, so one long prompt cannot stall every running stream.
        self._prefill_chunk = max(4, prefill_chunk)
        self._verbose = verbose
        self._llama_kwargs = dict(llama_kwargs or {})
        self._slots: list[_Slot] = []
        self._free_ids: list[int] = list(range(max_sequences))  # least recently freed first
        # Tokens whose KV currently sits in each sequence's stream (positions 0..len-1).
        self._cached: list[list[int]] = [[] for _ in range(max_sequences)]
        self._sizer = GroupSizer()
        self._step_no = 0
        self._last_step_decoded = False
        self._lc: Any = None
        self._model: Any = None
        self._ctx: Any = None
        self._batch: Any = None
        self._batch_allocated = False

    # -- lifecycle -----------------------------------------------------------------
    def load(self) -> None:
        lc = self._lc = import_llama_cpp(self._verbose)
        lc.llama_backend_init()
        mparams = lc.llama_model_default_params()
        cparams = lc.llama_context_default_params()
        cparams.n_ctx = self._n_ctx * self.capacity
        cparams.n_batch = cparams.n_ubatch = max(8, self._n_batch)
        cparams.n_seq_max = self.capacity
        cparams.n_threads = cparams.n_threads_batch = self._n_threads
        cparams.flash_attn_type = lc.LLAMA_FLASH_ATTN_TYPE_DISABLED
        cparams.kv_unified = False
        cparams.no_perf = True
        _apply_overrides(self._llama_kwargs, mparams, cparams)

        if not os.path.isfile(self.model_path):
            raise ModelLoadError(f"Model file not found: {self.model_path}")
        self._model = lc.llama_model_load_from_file(self.model_path.encode("utf-8"), mparams)
        if not self._model:
            raise ModelLoadError(
                f"llama.cpp could not load {self.model_path} (not a valid GGUF model file?)"
            )
        self._ctx = lc.llama_init_from_model(self._model, cparams)
        if not self._ctx:
            self.close()
            raise ModelLoadError(f"llama.cpp could not create a context for {self.model_path}")
        self._mem = lc.llama_get_memory(self._ctx)
        self._vocab = lc.llama_model_get_vocab(self._model)
        self._n_vocab = lc.llama_vocab_n_tokens(self._vocab)
        # llama.cpp may round the context up (to a multiple of 256); honour what was asked.
        self._n_ctx_seq = min(self._n_ctx, lc.llama_n_ctx_seq(self._ctx))
        self._n_batch = lc.llama_n_batch(self._ctx)
        self._batch = lc.llama_batch_init(self._n_batch, 0, 1)
        self._batch_allocated = True
        self._piece = PieceDecoder(lc, self._vocab)
        self.formatter = ChatFormatter(lc, self._model, self._vocab)

    def close(self) -> None:
        lc = self._lc
        for slot in self._slots:
            slot.sampler.free()
        self._slots.clear()
        if self._batch_allocated:
            lc.llama_batch_free(self._batch)
            self._batch_allocated = False
        if self._ctx:
            lc.llama_free(self._ctx)
            self._ctx = None
        if self._model:
            lc.llama_model_free(self._model)
            self._model = None

    # -- scheduling ----------------------------------------------------------------
    @property
    def free_slots(self) -> int:
        return len(self._free_ids)

    @property
    def active(self) -> bool:
        return bool(self._slots)

    def tokenize_count(self, text: str) -> int:
        return len(tokenize(self._lc, self._vocab, text))

    def admit(self, job: Job) -> None:
        """Start a job in a free slot. Raises (for this job only) on a bad prompt/grammar."""
        lc = self._lc
        if job.prompt is not None:  # a raw completion: the text as is
            prompt = tokenize(lc, self._vocab, job.prompt, add_special=True)
        else:
            prompt = tokenize(lc, self._vocab, self.formatter.render(job.messages))
        if not prompt:
            raise ValueError("the formatted prompt is empty")
        if len(prompt) >= self._n_ctx_seq:
            raise PromptTooLongError(
                f"prompt has {len(prompt)} tokens; the context window is {self._n_ctx_seq} "
                "tokens per sequence (raise n_ctx)"
            )
        sampler = make_sampler(lc, self._vocab, self._n_vocab, job.params, grammar_for(job.params))
        seq_id, reuse = self._pick_slot(prompt)
        self._free_ids.remove(seq_id)
        if not lc.llama_memory_seq_rm(self._mem, seq_id, reuse, -1):
            lc.llama_memory_seq_rm(self._mem, seq_id, -1, -1)  # partial removal unsupported
            reuse = 0
        del self._cached[seq_id][reuse:]
        slot = _Slot(seq_id, job, OutputTracker(job, self._n_ctx_seq), sampler, prompt, reuse)
        self._slots.append(slot)
        if not job._start(len(prompt)):
            self._release(slot)

    def step(self) -> None:
        """Run one decode step for every active sequence (cancellations are honoured first)."""
        for slot in [s for s in self._slots if s.job.cancel_requested]:
            slot.tracker.finish("cancelled")
            self._release(slot)
        if not self._slots:
            return
        self._step_no += 1
        n, decode_rows = self._fill_batch()
        self._batch.n_tokens = n
        with COMPUTE_LOCK:
            t0 = time.perf_counter()
            rc = self._lc.llama_decode(self._ctx, self._batch)
            elapsed = time.perf_counter() - t0
        if rc != 0:
            raise RuntimeError(f"llama_decode failed with status {rc}")
        if n == decode_rows:  # a pure decode step: a clean sample of the cost per row count
            self._sizer.record(n, elapsed)
        self._sample()

    def fail_all(self, exc: BaseException) -> None:
        """Fail every running job (after an unexpected decode error) and reset the KV cache."""
        for slot in list(self._slots):
            slot.job._fail(exc)
            self._release(slot)
        if self._mem:
            self._lc.llama_memory_clear(self._mem, True)
        for cached in self._cached:
            cached.clear()

    # -- internals -----------------------------------------------------------------
    def _fill_batch(self) -> tuple[int, int]:
        """Fill the batch for one step; returns (tokens, decode rows among them).

        A step is either a decode step (one token for ready sequences) or a prefill step
        (prompt pieces chosen by ``plan_prefill``), never both: llama.cpp would slice the
        prompt pieces to the decode rows' length (see ``plan_prefill``). While sequences
        are decoding, prefill steps alternate with decode steps (unless little prompt work
        is left) and are capped at ``prefill_chunk`` tokens, so a newcomer's long prompt
        cannot stall running streams.
        """
        for slot in self._slots:
            slot.logits_row = -1
        ready = [s for s in self._slots if s.next_token is not None]
        pending = [s for s in self._slots if s.next_token is None and s.n_past < len(s.prompt)]
        # The uneven prompt tails of jobs that arrived together are cleared at once (the
        # ready ones have just started), so they all get their first token about together.
        tails = sum(len(s.prompt) - s.n_past for s in pending) <= self._prefill_chunk and all(
            s.job.completion_tokens <= 1 for s in ready
        )
        if pending and (not ready or self._last_step_decoded or tails):
            self._last_step_decoded = False
            budget = self._prefill_chunk if ready else self._n_batch
            by_id = {s.seq_id: s for s in pending}
            plan = plan_prefill(
                sorted((s.seq_id, len(s.prompt) - s.n_past) for s in pending), budget
            )
            n = 0
            for seq_id, count in plan:
                slot = by_id[seq_id]
                start = slot.n_past
                for i in range(start, start + count):
                    n = self._put(n, slot.prompt[i], slot, i == len(slot.prompt) - 1)
            return n, 0
        self._last_step_decoded = True
        rows = self._sizer.choose(len(ready))
        if rows < len(ready):  # round-robin: the longest-waiting sequences go first
            ready.sort(key=lambda s: s.last_fed)
            del ready[rows:]
        # Sorted by seq id: llama.cpp puts only runs of consecutive ids in one ubatch.
        ready.sort(key=lambda s: s.seq_id)
        n = 0
        for slot in ready:
            assert slot.next_token is not None
            n = self._put(n, slot.next_token, slot, True)
            slot.last_fed = self._step_no
        return n, n

    def _put(self, n: int, token: int, slot: _Slot, want_logits: bool) -> int:
        b = self._batch
        b.token[n] = token
        b.pos[n] = slot.n_past
        b.n_seq_id[n] = 1
        b.seq_id[n][0] = slot.seq_id
        b.logits[n] = want_logits
        if want_logits:
            slot.logits_row = n
        self._cached[slot.seq_id].append(token)
        slot.n_past += 1
        return n + 1

    def _sample(self) -> None:
        lc, ctx, vocab = self._lc, self._ctx, self._vocab
        for slot in [s for s in self._slots if s.logits_row >= 0]:
            job = slot.job
            if job.params.raw_logits:  # copied before a sampler penalizes the row in place
                job.raw_logits.append(self._logits_row(slot.logits_row).copy())
            if job.params.logits:
                token, scores = slot.sampler.sample_with_scores(ctx, slot.logits_row)
                job.logits.append(scores)
            else:
                token = slot.sampler.sample(ctx, slot.logits_row)
            piece = None if lc.llama_vocab_is_eog(vocab, token) else self._piece(token)
            if slot.tracker.on_token(piece, slot.n_past):
                self._release(slot)
            else:
                slot.next_token = token

    def _logits_row(self, row: int) -> Any:
        import numpy as np

        pointer = self._lc.llama_get_logits_ith(self._ctx, row)
        return np.ctypeslib.as_array(pointer, shape=(self._n_vocab,))

    def _pick_slot(self, prompt: list[int]) -> tuple[int, int]:
        """Free slot whose cached tokens share the longest prefix with ``prompt``.

        Returns (seq_id, reusable positions). Ties go to the lowest seq id: simultaneous
        jobs then get consecutive ids, which llama.cpp can decode in one ubatch. At least
        the last two prompt tokens are decoded again: the last one's logits are needed,
        and a 1-token prompt piece would change the numerics (see ``plan_prefill``).
        """
        best_id, best = -1, -1
        for seq_id in sorted(self._free_ids):
            n = 0
            for a, b in zip(self._cached[seq_id], prompt, strict=False):
                if a != b:
                    break
                n += 1
            if n > best:
                best_id, best = seq_id, n
        return best_id, max(0, min(best, len(prompt) - 2))

    def _release(self, slot: _Slot) -> None:
        # The sequence's KV is kept for prefix reuse; _pick_slot trims it when reused.
        self._slots.remove(slot)
        slot.sampler.free()
        self._free_ids.append(slot.seq_id)


def _apply_overrides(overrides: dict[str, Any], mparams: Any, cparams: Any) -> None:
    """Set extra llama.cpp model/context parameters by field name (e.g. ``type_k``)."""
    mfields = {f[0] for f in type(mparams)._fields_}
    cfields = {f[0] for f in type(cparams)._fields_}
    for key, value in overrides.items():
        if key in cfields:
            setattr(cparams, key, value)
        elif key in mfields:
            setattr(mparams, key, value)
        else:
            raise ModelLoadError(
                f"unknown llama.cpp parameter {key!r} (not a llama_model_params or "
                "llama_context_params field)"
            )
