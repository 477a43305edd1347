"""Records about one generation: what the backend reported, the tool calls it asked for,
and the `GenerateLog` (what was sent, to which backend, with which options)."""

from __future__ import annotations

import datetime
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._blocks import AbstractMelleaTool, CBlock, Component

if TYPE_CHECKING:
    from .thunk import ModelOutputThunk


class GenerateType(enum.Enum):
    """How a thunk's generation is being driven."""

    NONE = None
    ASYNC = 1
    SYNC = 2


@dataclass
class GenerationMetadata:
    """What the backend reported about a generation (`mot.generation`)."""

    usage: dict[str, Any] | None = None
    """`prompt_tokens`, `completion_tokens`, `total_tokens` (OpenAI naming)."""
    model: str | None = None
    """The model the request asked for."""
    provider: str | None = None
    ttfb_ms: float | None = None
    """Time to the first streamed chunk, in milliseconds (streaming only)."""
    streaming: bool = False
    response_model: str | None = None
    """The model the server says answered (may differ from `model`, e.g. an alias)."""
    finish_reasons: list[str] | None = None
    response_id: str | None = None
    logits: tuple[Any, ...] | None = None
    """Per generated token, the processed scores the sampler drew from (`ModelOption.LOGITS`)."""
    raw_logits: tuple[Any, ...] | None = None
    """Per generated token, the model's unprocessed scores (`ModelOption.RAW_LOGITS`)."""
    attempts: int = 1
    """How many HTTP attempts the call took (>1 after retries)."""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ModelToolCall:
    """A tool call the model asked for: the tool's `name`, the tool, its parsed `args`.

    `func` is an `AbstractMelleaTool` (its `run` is called) or a plain callable, or None
    when the model named a tool that was not offered. `tool_call_id` is the provider's id
    for the call, when it gives one.
    """

    name: str
    func: AbstractMelleaTool[..., Any] | Callable[..., Any] | None
    args: Mapping[str, Any]
    tool_call_id: str | None = None

    @property
    def call_id(self) -> str | None:
        """Alias of `tool_call_id`."""
        return self.tool_call_id

    @call_id.setter
    def call_id(self, value: str | None) -> None:
        self.tool_call_id = value

    def call_func(self) -> Any:
        """Run the tool with the model's arguments."""
        func = self.func
        if func is None:
            raise LookupError(f"no tool named {self.name!r} was offered to the model")
        if isinstance(func, AbstractMelleaTool):
            return func.run(**self.args)
        return func(**self.args)


@dataclass
class RawProviderResponse:
    """The provider's own response: the final object, or the streamed chunks."""

    provider: str | None = None
    response: Any | None = None
    streamed_chunks: list[Any] | None = None


@dataclass
class GenerateLog:
    """One generation, as it happened: filled by the backend for every generation.

    - `prompt` — what was sent: the chat messages (a list of dicts) or the raw text;
    - `backend` — `"<provider>::<model>"`;
    - `model_options` — the options the call used (after merging the session's);
    - `model_output` — the provider's final answer (its JSON, or the text);
    - `action` — the component or block the generation answered;
    - `result` — the thunk; `is_final_result` — marked by sampling loops on the attempt
      they selected;
    - `extra` — anything else worth keeping (format, tools offered and called, seed...).
    """

    date: datetime.datetime | None = None
    prompt: str | list[dict[str, Any]] | None = None
    backend: str | None = None
    model_options: dict[str, Any] | None = None
    model_output: Any | None = None
    action: Component[Any] | CBlock | None = None
    result: ModelOutputThunk[Any] | None = None
    is_final_result: bool | None = False
    extra: dict[str, Any] | None = None


def settled_log(mot: ModelOutputThunk[Any]) -> GenerateLog:
    """`mot`'s log, completed from what its producer recorded (a backend's own entries win)."""
    log = mot._generate_log
    if log is None:
        when = mot._settled_at
        log = GenerateLog(
            date=datetime.datetime.now() if when is None else datetime.datetime.fromtimestamp(when)
        )
    gen = mot.generation
    if log.prompt is None:
        log.prompt = mot._prompt
    if log.backend is None and (gen.provider or gen.model):
        log.backend = f"{gen.provider or 'unknown'}::{gen.model or 'unknown'}"
    if log.model_options is None and mot._model_options is not None:
        log.model_options = dict(mot._model_options)
    if log.model_output is None:
        raw = mot.raw.response
        log.model_output = raw if raw is not None else mot.partial_value
    if log.action is None:
        log.action = mot._action
    if log.result is None:
        log.result = mot
    return log


__all__ = [
    "GenerateLog",
    "GenerateType",
    "GenerationMetadata",
    "ModelToolCall",
    "RawProviderResponse",
]
