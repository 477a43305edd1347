"""Job handles: cancellation flag, exactly-once terminal callback, guarded sink calls."""

from __future__ import annotations

import itertools
import logging
import threading
from typing import Any

from .api import GenerationParams, TokenSink

log = logging.getLogger("mellea.backends._llama")

_job_ids = itertools.count(1)


class Job:
    """Handle of one submitted generation. ``cancel`` and ``done`` are thread-safe.

    The ``_start``/``_text``/``_finish``/``_fail`` methods are the engine side: they call the
    sink, contain its exceptions, and guarantee exactly one terminal callback.
    """

    def __init__(
        self,
        messages: list[dict[str, Any]],
        params: GenerationParams,
        sink: TokenSink,
        *,
        prompt: str | None = None,
    ) -> None:
        self.id = next(_job_ids)
        self.messages = messages
        self.prompt = prompt
        """Raw prompt text (a plain completion): sent as is, no chat template."""
        self.params = params
        self.sink = sink
        self.prompt_tokens = 0
        self.completion_tokens = 0
        # Per sampled token, when the params ask for them (written on the engine thread,
        # read once the job is done).
        self.logits: list[Any] = []
        self.raw_logits: list[Any] = []
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._terminal = False

    def __repr__(self) -> str:
        state = "done" if self.done else "cancelling" if self.cancel_requested else "pending"
        return f"<Job {self.id} {state}>"

    # -- caller side ---------------------------------------------------------------
    def cancel(self) -> None:
        """Ask the engine to stop this job before its next token. Never blocks.

        The job then finishes with ``on_finish("cancelled", ...)`` (unless it already
        finished, in which case this is a no-op).
        """
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    @property
    def done(self) -> bool:
        """True once the terminal callback (on_finish/on_error) has returned."""
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until ``done`` (for tests and synchronous callers; never call on the engine thread)."""
        return self._done.wait(timeout)

    # -- engine side ---------------------------------------------------------------
    def _start(self, prompt_tokens: int) -> bool:
        """Report the prompt size; False if the sink raised (the job is then failed)."""
        self.prompt_tokens = prompt_tokens
        return self._call(self.sink.on_start, prompt_tokens)

    def _text(self, delta: str) -> bool:
        """Forward a text delta; False if the sink raised (the job is then failed)."""
        return not delta or self._call(self.sink.on_text, delta)

    def _finish(self, reason: str) -> None:
        if self._claim_terminal():
            try:
                self.sink.on_finish(reason, self.prompt_tokens, self.completion_tokens)
            except Exception:
                log.exception("TokenSink.on_finish raised (job %s); ignored", self.id)
            finally:
                self._done.set()

    def _fail(self, exc: BaseException) -> None:
        if self._claim_terminal():
            try:
                self.sink.on_error(exc)
            except Exception:
                log.exception("TokenSink.on_error raised (job %s); ignored", self.id)
            finally:
                self._done.set()

    def _claim_terminal(self) -> bool:
        with self._lock:
            if self._terminal:
                return False
            self._terminal = True
            return True

    def _call(self, fn: Any, arg: Any) -> bool:
        if self._terminal:
            return False
        try:
            fn(arg)
        except Exception as exc:
            self._fail(exc)
            return False
        return True
