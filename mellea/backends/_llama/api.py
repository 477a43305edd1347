"""Public value types of the embedded engine: parameters, the sink protocol, errors.

Pure Python, no llama_cpp import: importing this module must stay cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

FinishReason = Literal["stop", "length", "cancelled"]


class EngineError(RuntimeError):
    """Base class of the errors the engine reports through ``TokenSink.on_error``."""


class ModelLoadError(EngineError):
    """The model could not be loaded (missing or corrupt file, bad llama kwargs, ...)."""


class EngineClosedError(EngineError):
    """The engine was closed before the job finished (or ``submit`` was called after close)."""


class PromptTooLongError(EngineError, ValueError):
    """The formatted prompt does not fit the per-sequence context window."""


@dataclass(frozen=True)
class GenerationParams:
    """Sampling and stopping settings of one generation.

    The sampler chain mirrors ``llama_cpp.Llama.create_chat_completion`` (penalties over the
    last ``penalty_last_n`` generated tokens, optional grammar, then greedy for
    ``temperature == 0``, else top-k, typical(1.0), top-p, min-p, temperature, dist), so
    the engine and a direct ``Llama`` call produce the same greedy tokens.

    Extensions beyond the minimal spec:
      * ``grammar``: a raw GBNF grammar (root rule ``root``); exclusive with ``json_schema``.
      * ``min_p`` and ``penalty_last_n``: the two remaining knobs of that chain, with
        llama-cpp-python's defaults.
      * ``logits`` / ``raw_logits``: keep, per generated token, the scores the sampler drew
        from (after penalties, temperature and masking; masked tokens at -inf) / the
        model's raw scores, as float32 arrays of the vocabulary's size (``Job.logits`` /
        ``Job.raw_logits``). Batched decoder only.
    """

    max_tokens: int = 256
    temperature: float = 0.0  # 0 -> greedy
    top_p: float = 0.95
    top_k: int = 40
    repeat_penalty: float = 1.1
    seed: int | None = None  # None -> a fresh random seed per job (only matters if temperature > 0)
    stop: tuple[str, ...] = ()
    json_schema: dict[str, Any] | None = None  # grammar-constrained JSON output
    grammar: str | None = None  # raw GBNF, root rule "root"
    min_p: float = 0.05
    penalty_last_n: int = 64
    logits: bool = False
    raw_logits: bool = False

    def __post_init__(self) -> None:
        # Accept a bare string or a list for `stop` (common call styles); store a tuple.
        stop: Any = self.stop
        if isinstance(stop, str):
            stop = (stop,)
        object.__setattr__(self, "stop", tuple(s for s in stop if s))
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be >= 1, got {self.max_tokens}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if self.json_schema is not None and self.grammar is not None:
            raise ValueError("json_schema and grammar are mutually exclusive")


class TokenSink(Protocol):
    """Receives a job's output. Every method is called ON THE ENGINE THREAD and must not block.

    Order: ``on_start`` (at most once, once the prompt is tokenized), any number of
    ``on_text``, then exactly one of ``on_finish`` / ``on_error``. A job cancelled or failed
    before its prompt was processed gets only the terminal call. An exception raised by
    ``on_start``/``on_text`` fails that job (it then gets ``on_error`` with that exception).
    """

    def on_start(self, prompt_tokens: int) -> None: ...

    def on_text(self, delta: str) -> None: ...

    def on_finish(self, finish_reason: str, prompt_tokens: int, completion_tokens: int) -> None: ...

    def on_error(self, exc: BaseException) -> None: ...
