"""Generation payloads: one request to a model, fired by the backends.

`generation_id` (= `call_id`) identifies one request; its pre, post and error payloads
share it. `parent` is the scope the request was started in (an attempt of a sampling
loop, a validation, a component call, a session), so a request made by a concurrent
thunk nests under the call that started it. `generation_pre_call` runs in the caller's
context; `generation_post_call` / `generation_error` run on mellea's I/O loop, in the
request's task (which carries the caller's context variables).

What the model reported is on `model_output.generation` (`GenerationMetadata`):
`usage` (`prompt_tokens`, `completion_tokens`, `total_tokens`, and where the server
says so `reasoning_tokens`, `cached_tokens`), `finish_reasons`, `response_id`,
`response_model`, `ttfb_ms`, `streaming`, `attempts` (HTTP tries).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field

from ._base import MelleaBasePayload

__all__ = [
    "GenerationBatchErrorPayload",
    "GenerationBatchPostCallPayload",
    "GenerationBatchPreCallPayload",
    "GenerationErrorPayload",
    "GenerationEventPayload",
    "GenerationPostCallPayload",
    "GenerationPreCallPayload",
]


class GenerationPreCallPayload(MelleaBasePayload):
    """`generation_pre_call`: just before a request is sent to the model.

    - `action` — the component or block being answered; `context` — the history;
    - writable: `model_options` — the call's options (merged over the backend's when
      sent), `format` — the output's pydantic class, `tool_calls` — whether tools are
      offered;
    - `generation_id`; `model` — the model id; `provider` — `"ollama"`, `"openai"`, ...

    Blocking here fails the thunk with `PluginViolationError`; nothing is sent.
    """

    action: Any = None
    context: Any = None
    model_options: dict[str, Any] = Field(default_factory=dict)
    format: Any = None
    tool_calls: bool = False
    generation_id: str | None = None
    model: str | None = None
    provider: str | None = None


class GenerationPostCallPayload(MelleaBasePayload):
    """`generation_post_call`: the answer is complete (`model_output.value` is set).

    Fires before readers waiting on the thunk wake up.

    - `prompt` — what was sent (chat messages as dicts, or the raw text);
    - `model_output` — the computed `ModelOutputThunk` (`generation` has usage, finish
      reasons, response id, time to first chunk);
    - `latency_ms` — from the request going out to the last byte;
    - `generation_id`, `model`, `provider`;
    - `chunk_times_ms` — for a streamed answer, when each chunk arrived (ms after the
      request went out; time per output chunk is their differences).
    """

    prompt: str | list[dict[str, Any]] = ""
    model_output: Any = None
    latency_ms: float = 0.0
    generation_id: str | None = None
    model: str | None = None
    provider: str | None = None
    chunk_times_ms: list[float] = Field(default_factory=list)


class GenerationErrorPayload(MelleaBasePayload):
    """`generation_error`: the request failed, was blocked or was cancelled.

    - `exception` — the typed error the thunk fails with (`partial_output` holds the
      text produced before it); `model_output` — the thunk (None if none was created);
    - `generation_id`, `latency_ms`, `model`, `provider`.
    """

    exception: BaseException
    model_output: Any = None
    generation_id: str | None = None
    latency_ms: float = 0.0
    model: str | None = None
    provider: str | None = None


class GenerationBatchPreCallPayload(MelleaBasePayload):
    """`generation_batch_pre_call`: before `generate_from_raw` sends its prompts.

    Writable: `model_options`, `format`, `tool_calls`. `actions` — the prompts;
    `num_actions` — how many.
    """

    actions: Sequence[Any] = ()
    generation_id: str | None = None
    model_options: dict[str, Any] = Field(default_factory=dict)
    format: Any = None
    tool_calls: bool = False
    num_actions: int = 0
    model: str | None = None
    provider: str | None = None


class GenerationBatchPostCallPayload(MelleaBasePayload):
    """`generation_batch_post_call`: every thunk of a `generate_from_raw` is computed.

    `usage` sums the thunks' usage.
    """

    generation_id: str | None = None
    model_outputs: list[Any] = Field(default_factory=list)
    usage: dict[str, Any] | None = None
    model: str | None = None
    provider: str | None = None
    latency_ms: float = 0.0


class GenerationBatchErrorPayload(MelleaBasePayload):
    """`generation_batch_error`: a `generate_from_raw` failed."""

    generation_id: str | None = None
    exception: BaseException
    model: str | None = None
    provider: str | None = None
    latency_ms: float = 0.0


class GenerationEventPayload(MelleaBasePayload):
    """`generation_event`: something happened during a generation (`event_name`, `data`)."""

    generation_id: str | None = None
    event_name: str = ""
    model: str | None = None
    provider: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
