"""Sequential fallback decoder: one job at a time through ``llama_cpp.Llama.generate``.

It relies only on llama-cpp-python's well-trodden high-level path (its own eval loop,
sampler chain and prompt-prefix KV reuse), so it is the fallback if the low-level
batched decoder misbehaves on some model, and the baseline it is measured against.
Prompt formatting, text assembly, stop strings and finish reasons are shared with the
batched decoder, so both report identically.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from .api import ModelLoadError, PromptTooLongError
from .grammar import GRAMMAR_ROOT, grammar_for
from .job import Job
from .llama_utils import COMPUTE_LOCK, ChatFormatter, PieceDecoder, import_llama_cpp, tokenize
from .sampling import resolve_seed
from .text import OutputTracker


class SequentialDecoder:
    capacity = 1

    def __init__(
        self,
        model_path: str,
        *,
        n_ctx: int,
        n_threads: int,
        n_batch: int = 512,
        verbose: bool = False,
        llama_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.model_path = model_path
        self._n_ctx = n_ctx
        self._n_threads = n_threads
        self._n_batch = n_batch
        self._verbose = verbose
        self._llama_kwargs = dict(llama_kwargs or {})
        self._llm: Any = None
        self._job: Job | None = None
        self._gen: Iterator[int] | None = None
        self._tracker: OutputTracker | None = None
        self._n_past = 0

    def load(self) -> None:
        lc = self._lc = import_llama_cpp(self._verbose)
        if not os.path.isfile(self.model_path):
            raise ModelLoadError(f"Model file not found: {self.model_path}")
        try:
            self._llm = lc.Llama(
                self.model_path,
                n_ctx=self._n_ctx,
                n_batch=self._n_batch,
                n_threads=self._n_threads,
                n_threads_batch=self._n_threads,
                flash_attn=False,
                verbose=self._verbose,
                **self._llama_kwargs,
            )
        except (ValueError, TypeError, RuntimeError) as exc:
            raise ModelLoadError(f"llama.cpp could not load {self.model_path}: {exc}") from exc
        self._vocab = lc.llama_model_get_vocab(self._llm.model)
        self._piece = PieceDecoder(lc, self._vocab)
        self.formatter = ChatFormatter(lc, self._llm.model, self._vocab)

    def close(self) -> None:
        self._end()
        if self._llm is not None:
            self._llm.close()
            self._llm = None

    @property
    def free_slots(self) -> int:
        return 0 if self._job is not None else 1

    @property
    def active(self) -> bool:
        return self._job is not None

    def tokenize_count(self, text: str) -> int:
        return len(tokenize(self._lc, self._vocab, text))

    def admit(self, job: Job) -> None:
        lc, llm, params = self._lc, self._llm, job.params
        if params.logits or params.raw_logits:
            raise ValueError("logits are only kept by the batched decoder (batched=True)")
        if job.prompt is not None:  # a raw completion: the text as is
            prompt = tokenize(lc, self._vocab, job.prompt, add_special=True)
        else:
            prompt = tokenize(lc, self._vocab, self.formatter.render(job.messages))
        if not prompt:
            raise ValueError("the formatted prompt is empty")
        if len(prompt) >= self._n_ctx:
            raise PromptTooLongError(
                f"prompt has {len(prompt)} tokens; the context window is {self._n_ctx} tokens"
            )
        grammar = None
        gbnf = grammar_for(params)
        if gbnf is not None:
            _check_grammar(lc, self._vocab, gbnf)  # a NULL grammar sampler would crash Llama
            grammar = lc.LlamaGrammar.from_string(gbnf, verbose=False)
        llm.set_seed(resolve_seed(params))
        llm.last_n_tokens_size = params.penalty_last_n  # read by Llama._init_sampler
        self._gen = llm.generate(
            prompt,
            top_k=params.top_k,
            top_p=params.top_p,
            min_p=params.min_p,
            typical_p=1.0,
            temp=params.temperature,
            repeat_penalty=params.repeat_penalty,
            grammar=grammar,
        )
        self._job = job
        self._tracker = OutputTracker(job, self._n_ctx)
        self._n_past = len(prompt)
        if not job._start(len(prompt)):
            self._end()

    def step(self) -> None:
        job, tracker, gen = self._job, self._tracker, self._gen
        assert job is not None and tracker is not None and gen is not None
        if job.cancel_requested:
            tracker.finish("cancelled")
            self._end()
            return
        with COMPUTE_LOCK:  # next() evaluates the previous token, then samples
            token = next(gen)
        piece = None if self._lc.llama_vocab_is_eog(self._vocab, token) else self._piece(token)
        # The first sampled token sits on top of the prompt; each later one on top of the
        # previous token, which generate() feeds to the model before sampling again.
        n_past = self._n_past + job.completion_tokens
        if tracker.on_token(piece, n_past):
            self._end()

    def fail_all(self, exc: BaseException) -> None:
        if self._job is not None:
            self._job._fail(exc)
        self._end()

    def _end(self) -> None:
        if self._gen is not None:
            close = getattr(self._gen, "close", None)
            if close is not None:
                close()
        self._gen = None
        self._job = None
        self._tracker = None


def _check_grammar(lc: Any, vocab: Any, gbnf: str) -> None:
    sampler = lc.llama_sampler_init_grammar(
        vocab, gbnf.encode("utf-8"), GRAMMAR_ROOT.encode("utf-8")
    )
    if not sampler:
        raise ValueError("llama.cpp rejected the grammar (see its log for the parse error)")
    lc.llama_sampler_free(sampler)
