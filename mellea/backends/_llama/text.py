"""Token bytes -> text deltas: UTF-8-safe incremental decoding, stop strings, finish logic.

Shared by the batched and the sequential decoder so both report text, token counts and
finish reasons identically.
"""

from __future__ import annotations

import codecs

from .job import Job


class TextAssembler:
    """Turns token byte pieces into emit-safe text deltas.

    * A multi-byte UTF-8 character split across tokens is held until complete (the
      incremental decoder buffers it), so no U+FFFD appears for valid output.
    * Text that could be the beginning of a stop string is held back until it either
      completes the stop string (then it is dropped and ``stopped`` becomes True) or
      diverges (then it is emitted). Holding the longest such suffix guarantees a stop
      string can never straddle already-emitted text.
    """

    def __init__(self, stop: tuple[str, ...] = ()) -> None:
        self._stop = stop
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self.stopped = False

    def feed(self, piece: bytes) -> str:
        """Add a token's bytes; return the text that is now safe to emit."""
        if self.stopped:
            return ""
        self._pending += self._decoder.decode(piece)
        if not self._stop:
            out, self._pending = self._pending, ""
            return out
        cut = self._earliest_stop()
        if cut >= 0:
            out, self._pending, self.stopped = self._pending[:cut], "", True
            return out
        keep = self._stop_prefix_suffix_len()
        split = len(self._pending) - keep
        out, self._pending = self._pending[:split], self._pending[split:]
        return out

    def flush(self) -> str:
        """Release held text at the end of generation (no stop string completed).

        Bytes of a character left incomplete by truncation are dropped rather than
        rendered as U+FFFD.
        """
        out, self._pending = self._pending, ""
        return out

    def _earliest_stop(self) -> int:
        best = -1
        for s in self._stop:
            i = self._pending.find(s)
            if i >= 0 and (best < 0 or i < best):
                best = i
        return best

    def _stop_prefix_suffix_len(self) -> int:
        text = self._pending
        longest = 0
        for s in self._stop:
            for k in range(min(len(s) - 1, len(text)), longest, -1):
                if text.endswith(s[:k]):
                    longest = k
                    break
        return longest


class OutputTracker:
    """Per-job generation bookkeeping: counts tokens, emits text, decides when to finish.

    Every method returns True when the job is over (its terminal callback has then been
    delivered, or the sink failed and the job already got ``on_error``).
    """

    def __init__(self, job: Job, context_limit: int) -> None:
        self.job = job
        self._max_tokens = job.params.max_tokens
        self._context_limit = context_limit
        self._text = TextAssembler(job.params.stop)

    def on_token(self, piece: bytes | None, n_past: int) -> bool:
        """Account for a sampled token. ``piece`` None means an end-of-generation token.

        ``n_past`` is the number of positions already in the sequence's KV cache (prompt +
        earlier output); generation ends with "length" once prompt + output tokens fill
        the context window.
        """
        if piece is None:  # EOG token: not counted, not rendered
            return self.finish("stop")
        self.job.completion_tokens += 1
        if not self.job._text(self._text.feed(piece)):
            return True
        if self._text.stopped:
            return self.finish("stop")
        if self.job.completion_tokens >= self._max_tokens or n_past + 1 >= self._context_limit:
            return self.finish("length")
        return False

    def finish(self, reason: str) -> bool:
        if reason != "cancelled" and not self.job._text(self._text.flush()):
            return True
        self.job._finish(reason)
        return True
