"""The embedded inference engine: one owner thread per model, a request queue, job handles.

A ``llama_cpp.Llama``/context used from two threads at once aborts the process (GGML
assertion), so every llama.cpp call happens on a single owner thread. Callers only touch
a ``queue.Queue`` and per-job flags, which makes ``submit``/``cancel`` thread-safe and
non-blocking. The thread starts on the first ``submit`` and loads the model there; it
blocks on the queue when idle (no polling) and otherwise runs decode steps, admitting
new jobs between steps.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
import weakref
from collections import deque
from typing import Any, Protocol

from .api import EngineClosedError, GenerationParams, ModelLoadError, TokenSink
from .job import Job
from .model_files import ModelNotFoundError, resolve_model_path
from .threads import default_n_threads

log = logging.getLogger("mellea.backends._llama")


class _Decoder(Protocol):
    """What the owner loop needs from a decoder (BatchDecoder / SequentialDecoder)."""

    @property
    def free_slots(self) -> int: ...
    @property
    def active(self) -> bool: ...
    def load(self) -> None: ...
    def admit(self, job: Job) -> None: ...
    def step(self) -> None: ...
    def fail_all(self, exc: BaseException) -> None: ...
    def tokenize_count(self, text: str) -> int: ...
    def close(self) -> None: ...


class _Stop:
    """Queue sentinel: shut the owner thread down."""


class _Batch:
    """Queue item: jobs submitted together (the owner thread takes them in one go)."""

    def __init__(self, jobs: list[Job]) -> None:
        self.jobs = jobs


class _Call:
    """Queue item: run ``fn(decoder)`` on the owner thread (used by ``tokenize_count``)."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = threading.Event()


class Engine:
    """In-process llama.cpp inference for one GGUF model (see the module docstring).

    ``n_ctx`` is the context window of each sequence (prompt + output). The batched decoder
    allocates KV memory for ``n_ctx * max_sequences`` tokens when the model loads (SmolLM2:
    22.5 KiB per token, so the defaults hold ~860 MB resident in total with the model;
    ``n_ctx=2048`` or ``max_sequences=4`` halve the KV part). Extra keyword
    arguments: ``n_batch`` (tokens per decode call, default 512), ``prefill_chunk``
    (prompt tokens per step while others decode, default 64), ``coalesce_ms`` (how long
    an idle engine waits for more jobs to start them together, default 2), ``verbose``
    (llama.cpp logs, default False); anything else is passed to llama.cpp (batched: a
    ``llama_model_params``/``llama_context_params`` field; sequential: a ``Llama()``
    keyword). Construction does no I/O and does not import llama_cpp.
    """

    def __init__(
        self,
        model_path: str | None = None,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        max_sequences: int = 8,
        batched: bool = True,
        **llama_kwargs: Any,
    ) -> None:
        if n_ctx < 16:
            raise ValueError(f"n_ctx must be >= 16, got {n_ctx}")
        if max_sequences < 1:
            raise ValueError(f"max_sequences must be >= 1, got {max_sequences}")
        if n_threads is not None and n_threads < 1:
            raise ValueError(f"n_threads must be >= 1, got {n_threads}")
        self._model_path = model_path
        self.n_ctx = n_ctx
        self.n_threads = n_threads if n_threads is not None else default_n_threads()
        self.max_sequences = max_sequences if batched else 1
        self.batched = batched
        self._n_batch = int(llama_kwargs.pop("n_batch", 512))
        self._prefill_chunk = int(llama_kwargs.pop("prefill_chunk", 64))
        self._verbose = bool(llama_kwargs.pop("verbose", False))
        self._coalesce_s = float(llama_kwargs.pop("coalesce_ms", 2.0)) / 1000.0
        self._llama_kwargs = llama_kwargs
        self._queue: queue.SimpleQueue[Job | _Batch | _Stop | _Call] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        _live_engines.add(self)

    def __repr__(self) -> str:
        mode = f"batched x{self.max_sequences}" if self.batched else "sequential"
        return f"<Engine {self.model_name} {mode} threads={self.n_threads}>"

    @property
    def model_name(self) -> str:
        """The model file's name without ``.gguf`` (no I/O; the default model if unset)."""
        from .model_files import DEFAULT_MODEL_FILE

        name = os.path.basename(self._model_path) if self._model_path else DEFAULT_MODEL_FILE
        return name[: -len(".gguf")] if name.lower().endswith(".gguf") else name

    @property
    def closed(self) -> bool:
        return self._closed

    # -- caller API ------------------------------------------------------------------
    def submit(
        self,
        messages: list[dict[str, Any]],
        params: GenerationParams,
        sink: TokenSink,
        *,
        prompt: str | None = None,
    ) -> Job:
        """Queue a chat generation (or, with ``prompt``, a raw completion of that text);
        returns at once. Results arrive through ``sink``.

        Raises EngineClosedError if the engine is closed (the job is then not accepted).
        """
        return self.submit_many([Job(messages, params, sink, prompt=prompt)])[0]

    def submit_many(self, jobs: list[Job]) -> list[Job]:
        """Queue several jobs at once: the owner thread takes them in the same step, so
        they are admitted (and prefilled) together, up to the free sequence slots."""
        if not jobs:
            return jobs
        with self._lock:
            if self._closed:
                raise EngineClosedError("the engine is closed")
            self._ensure_thread()
            self._queue.put(jobs[0] if len(jobs) == 1 else _Batch(jobs))
        return jobs

    def tokenize_count(self, text: str) -> int:
        """Number of tokens of ``text`` (no special tokens added). Blocks until the model
        is loaded and the owner thread is free between two decode steps."""
        if self._thread is not None and threading.current_thread() is self._thread:
            raise RuntimeError("tokenize_count cannot be called from a TokenSink callback")
        call = _Call(lambda decoder: decoder.tokenize_count(text))
        with self._lock:
            if self._closed:
                raise EngineClosedError("the engine is closed")
            self._ensure_thread()
            self._queue.put(call)
        call.done.wait()
        if call.error is not None:
            raise call.error
        return int(call.result)

    def close(self, timeout: float | None = 30.0) -> None:
        """Stop the owner thread and free the model. Unfinished jobs get ``on_error``
        (EngineClosedError). Idempotent; safe to call from a sink callback (then it does not
        wait for the thread)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
            self._queue.put(_Stop())
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("engine thread did not stop within %s s", timeout)
        if thread is None or not thread.is_alive():
            # Nothing can consume the queue any more: fail what is left in it.
            self._drain_after_stop()

    # -- owner thread ------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"mellea-llama[{self.model_name}]", daemon=True
            )
            self._thread.start()

    def _make_decoder(self) -> _Decoder:
        path = resolve_model_path(self._model_path)
        if self.batched:
            from .batch import BatchDecoder

            return BatchDecoder(
                path,
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                max_sequences=self.max_sequences,
                n_batch=self._n_batch,
                prefill_chunk=self._prefill_chunk,
                verbose=self._verbose,
                llama_kwargs=self._llama_kwargs,
            )
        from .sequential import SequentialDecoder

        return SequentialDecoder(
            path,
            n_ctx=self.n_ctx,
            n_threads=self.n_threads,
            n_batch=self._n_batch,
            verbose=self._verbose,
            llama_kwargs=self._llama_kwargs,
        )

    def _load(self) -> _Decoder | BaseException:
        decoder: _Decoder | None = None
        try:
            decoder = self._make_decoder()
            decoder.load()
            return decoder
        except ModelNotFoundError as exc:
            return exc
        except ModelLoadError as exc:
            err: BaseException = exc
        except Exception as exc:
            err = ModelLoadError(f"could not load the model: {type(exc).__name__}: {exc}")
            err.__cause__ = exc
        if decoder is not None:
            try:
                decoder.close()
            except Exception:
                log.debug("decoder.close() after a failed load raised", exc_info=True)
        return err

    def _run(self) -> None:
        waiting: deque[Job] = deque()
        decoder: _Decoder | None = None
        load_error: BaseException | None = None
        stopping = False
        try:
            while not stopping:
                busy = bool(waiting) or (decoder is not None and decoder.active)
                # Idle: block on the queue. Busy: take whatever arrived, without waiting.
                items: list[Job | _Batch | _Stop | _Call] = [] if busy else [self._queue.get()]
                if not busy and isinstance(items[0], Job | _Batch):
                    self._coalesce(items)
                while True:
                    try:
                        items.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                for item in items:
                    if isinstance(item, _Stop):
                        stopping = True
                    elif isinstance(item, Job):
                        waiting.append(item)
                    elif isinstance(item, _Batch):
                        waiting.extend(item.jobs)
                    elif decoder is None and load_error is None:
                        decoder, load_error = self._load_into(item)
                    else:
                        self._run_call(item, decoder, load_error)
                if stopping:
                    break
                for job in [j for j in waiting if j.cancel_requested]:
                    waiting.remove(job)
                    job._finish("cancelled")
                if waiting and decoder is None and load_error is None:
                    decoder, load_error = self._load_into(None)
                if load_error is not None:
                    while waiting:
                        waiting.popleft()._fail(load_error)
                    continue
                assert decoder is not None or not waiting
                if decoder is None:
                    continue
                while waiting and decoder.free_slots > 0:
                    job = waiting.popleft()
                    try:
                        decoder.admit(job)
                    except Exception as exc:
                        job._fail(exc)
                if decoder.active:
                    try:
                        decoder.step()
                    except Exception as exc:
                        log.exception("decode step failed; failing the running jobs")
                        decoder.fail_all(exc)
        except BaseException as exc:  # a bug in the loop itself: never leave jobs hanging
            log.exception("engine thread crashed")
            if decoder is not None:
                decoder.fail_all(exc)
            for job in waiting:
                job._fail(exc)
            waiting.clear()
            with self._lock:
                self._closed = True
        finally:
            closed = EngineClosedError("the engine was closed before this job finished")
            for job in waiting:
                job._fail(closed)
            if decoder is not None:
                try:
                    decoder.fail_all(closed)
                    decoder.close()
                except Exception:
                    log.exception("freeing the model failed")
            self._drain_after_stop()

    def _coalesce(self, items: list[Job | _Batch | _Stop | _Call]) -> None:
        """Waking from idle: collect jobs submitted within the next few ms as well, so that
        near-simultaneous requests (several threads, several awaits) are prefilled in the
        same step and get the same time to first token."""
        deadline = time.monotonic() + self._coalesce_s
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                items.append(self._queue.get(timeout=remaining))
            except queue.Empty:
                return

    def _load_into(self, call: _Call | None) -> tuple[_Decoder | None, BaseException | None]:
        result = self._load()
        decoder = None if isinstance(result, BaseException) else result
        error = result if isinstance(result, BaseException) else None
        if call is not None:
            self._run_call(call, decoder, error)
        return decoder, error

    @staticmethod
    def _run_call(call: _Call, decoder: _Decoder | None, load_error: BaseException | None) -> None:
        try:
            if decoder is None:
                raise load_error or ModelLoadError("the model is not loaded")
            call.result = call.fn(decoder)
        except Exception as exc:
            call.error = exc
        finally:
            call.done.set()

    def _drain_after_stop(self) -> None:
        closed = EngineClosedError("the engine was closed before this job started")
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, Job):
                item._fail(closed)
            elif isinstance(item, _Batch):
                for job in item.jobs:
                    job._fail(closed)
            elif isinstance(item, _Call):
                item.error = closed
                item.done.set()


# -- process-wide registry ---------------------------------------------------------------
_live_engines: weakref.WeakSet[Engine] = weakref.WeakSet()
_shared: dict[tuple[str, tuple[tuple[str, str], ...]], Engine] = {}
_shared_lock = threading.Lock()


def shared_engine(model_path: str | None = None, **kwargs: Any) -> Engine:
    """The process-wide Engine for (resolved model path, kwargs), created on first use.

    Resolving the path is cheap (no model load): ``model_path=None`` means the default model
    and raises ModelNotFoundError right here if it is not installed. The model itself loads
    on the first submit, in the owner thread. A closed shared engine is replaced.
    """
    path = resolve_model_path(model_path)
    key = (path, tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
    with _shared_lock:
        engine = _shared.get(key)
        if engine is None or engine.closed:
            engine = _shared[key] = Engine(path, **kwargs)
        return engine


@atexit.register
def _close_all_engines() -> None:
    # Stop owner threads before interpreter teardown: a daemon thread still inside
    # llama_decode while the interpreter finalizes can crash the process at exit.
    for engine in list(_live_engines):
        try:
            engine.close(timeout=5.0)
        except Exception:
            log.debug("closing an engine at exit failed", exc_info=True)
