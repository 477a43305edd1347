"""The embedded engine's plain completions (raw prompts, submitted together) and logits."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

from mellea.backends._llama import Engine, GenerationParams, Job, default_model_path
from tests.engine.test_llama_engine import Sink, chat, needs_model

pytestmark = [pytest.mark.model, needs_model]

RAW = ["The capital of France is", "1, 2, 3, 4,", "Once upon a time"]


@pytest.fixture(scope="module")
def engine() -> Any:
    eng = Engine(n_threads=1, n_ctx=512, max_sequences=4)
    yield eng
    eng.close()


class OrderedSink(Sink):
    """Also records the order of events across jobs."""

    def __init__(self, name: str, log: list[tuple[str, str]], lock: threading.Lock) -> None:
        super().__init__()
        self.name, self.log, self.lock = name, log, lock

    def on_start(self, prompt_tokens: int) -> None:
        with self.lock:
            self.log.append(("start", self.name))
        super().on_start(prompt_tokens)

    def on_text(self, delta: str) -> None:
        with self.lock:
            self.log.append(("text", self.name))
        super().on_text(delta)


def test_raw_prompts_complete_as_given_and_start_together(engine: Engine) -> None:
    log: list[tuple[str, str]] = []
    lock = threading.Lock()
    sinks = [OrderedSink(str(i), log, lock) for i in range(len(RAW))]
    jobs = [
        Job([], GenerationParams(max_tokens=8), s, prompt=p)
        for s, p in zip(sinks, RAW, strict=True)
    ]
    engine.submit_many(jobs)
    for s in sinks:
        s.wait()
    # Admitted in one step: every job started before any produced text.
    first_text = next(i for i, (kind, _) in enumerate(log) if kind == "text")
    assert sorted(name for kind, name in log[:first_text] if kind == "start") == ["0", "1", "2"]
    # The text is completed as is (no chat template): llama-cpp-python agrees.
    import llama_cpp

    llm = llama_cpp.Llama(default_model_path(), n_ctx=512, n_threads=1, verbose=False)
    try:
        for sink, prompt in zip(sinks, RAW, strict=True):
            ref = llm.create_completion(prompt, max_tokens=8, temperature=0.0, repeat_penalty=1.1)
            assert sink.text == ref["choices"][0]["text"]
            assert sink.prompt_tokens == ref["usage"]["prompt_tokens"]
    finally:
        llm.close()


def test_greedy_logits_are_the_scores_of_the_chosen_tokens(engine: Engine) -> None:
    sink = Sink()
    params = GenerationParams(max_tokens=6, logits=True, raw_logits=True, repeat_penalty=1.3)
    job = engine.submit(chat("Name three colors."), params, sink)
    sink.wait()
    assert sink.finish is not None and sink.finish[0] == "length"
    assert len(job.logits) == len(job.raw_logits) == job.completion_tokens == 6
    plain = Sink()
    engine.submit(
        chat("Name three colors."), GenerationParams(max_tokens=6, repeat_penalty=1.3), plain
    )
    assert plain.wait().text == sink.text  # keeping logits changes nothing
    import llama_cpp

    llm = llama_cpp.Llama(default_model_path(), n_ctx=512, n_threads=1, verbose=False)
    try:
        chosen = [int(scores.argmax()) for scores in job.logits]
        assert llm.detokenize(chosen).decode() == sink.text
    finally:
        llm.close()
    for processed, raw in zip(job.logits, job.raw_logits, strict=True):
        assert processed.shape == raw.shape == (llm.n_vocab(),) and raw.dtype == np.float32
    # The repetition penalty shows in the processed scores only, after the first token.
    assert np.array_equal(job.logits[0], job.raw_logits[0])
    assert any(
        not np.array_equal(p, r) for p, r in zip(job.logits[1:], job.raw_logits[1:], strict=True)
    )


def test_sampled_logits_show_the_masking_and_temperature(engine: Engine) -> None:
    params = dict(max_tokens=8, temperature=0.5, top_k=5, seed=11, repeat_penalty=1.0)
    sink = Sink()
    job = engine.submit(
        chat(RAW[2]), GenerationParams(**params, logits=True, raw_logits=True), sink
    )
    plain = Sink()
    engine.submit(chat(RAW[2]), GenerationParams(**params), plain)
    assert sink.wait().text == plain.wait().text  # the same tokens with the same seed
    for processed, raw in zip(job.logits, job.raw_logits, strict=True):
        kept = np.isfinite(processed)
        assert 1 <= kept.sum() <= 5  # top-k (then top-p/min-p) masked the rest to -inf
        top5 = np.argsort(raw)[-5:]
        assert set(np.flatnonzero(kept)) <= set(top5)
        np.testing.assert_allclose(processed[kept], raw[kept] / 0.5, rtol=1e-5)


def test_sequential_decoder_refuses_logits() -> None:
    seq = Engine(n_threads=1, n_ctx=256, batched=False)
    try:
        sink = Sink()
        seq.submit(chat("hi"), GenerationParams(max_tokens=2, logits=True), sink)
        assert isinstance(sink.wait().error, ValueError)
        raw = Sink()
        seq.submit([], GenerationParams(max_tokens=3), raw, prompt=RAW[0])
        assert raw.wait().error is None and raw.text
    finally:
        seq.close()
