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

import asyncio
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

from pydantic import Field

from ..errors import MelleaError
from . import _base
from ._base import MelleaBasePayload

__all__ = [
    "GenerationBatchErrorPayload",
    "GenerationBatchPostCallPayload",
    "GenerationBatchPreCallPayload",
    "GenerationErrorPayload",
    "GenerationEventPayload",
    "GenerationPostCallPayload",
    "GenerationPreCallPayload",
    "around",
    "batch_pre_call",
    "batch_watch",
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


# ----- firing (called by the backends' `start` while a plugin is registered) -----------

PRE, POST, ERROR = "generation_pre_call", "generation_post_call", "generation_error"


async def around(
    backend: Any,
    mot: Any,
    planned: Coroutine[Any, Any, None],
    action: Any,
    ctx: Any,
    format: Any,
    model_options: Mapping[str, Any] | None,
    tool_calls: bool,
    replan: Callable[[Any, dict[str, Any], bool], Coroutine[Any, Any, None]],
) -> None:
    """Run one generation (`planned`, which fills `mot`) inside its hook points.

    `generation_pre_call` first: a block fails `mot` with the violation before anything
    is sent; changed options, format or tool flag are re-planned with `replan(format,
    model_options, tool_calls)`. Then the generation runs; its readers stay waiting
    until `generation_post_call` (or `generation_error`) has seen the settled thunk. A
    post-call hook that blocks turns the thunk into that failure. The request runs inside
    `hooks.running(generation_id)` (a tracer makes its span current: the HTTP request
    carries it).
    """
    from .. import hooks

    generation_id = hooks.new_id()
    base = _base.fields_here(generation_id, PRE)
    names = {"generation_id": generation_id, "model": backend.model_id}
    names["provider"] = getattr(backend, "provider", None)
    try:
        coro = await _pre_call(
            hooks, backend, planned, action, ctx, format, model_options, tool_calls, replan, base,
            names,
        )  # fmt: skip
    except MelleaError as exc:  # blocked, or the changed call is not valid
        await _fire_error(hooks, backend, mot, exc, base, names, 0.0)
        mot._fail(exc)
        return
    watch = hooks.on(POST) or hooks.on(ERROR)
    if watch:
        mot._hold()
        if hooks.on(POST) and mot.generation.streaming:
            mot._chunk_times = []
    started = time.perf_counter()
    try:
        with hooks.running(generation_id):  # the request is sent in its span's context
            await coro
    except asyncio.CancelledError:
        if watch:
            mot._release()
            if mot.error is not None and hooks.on(ERROR):  # the request is gone: report aside
                latency = (time.perf_counter() - started) * 1000
                error_coro = _fire_error(hooks, backend, mot, mot.error, base, names, latency)
                hooks.track(asyncio.get_running_loop().create_task(error_coro))
        raise
    if not watch:
        return
    try:
        latency = (time.perf_counter() - started) * 1000
        if mot.is_computed() and hooks.on(POST):
            await _fire_post(hooks, backend, mot, base, names, latency)
        elif mot.error is not None:
            await _fire_error(hooks, backend, mot, mot.error, base, names, latency)
    except MelleaError as exc:  # a post-call hook refused the output
        mot._revoke(exc)
    finally:
        mot._chunk_times = None
        mot._release()


async def _pre_call(
    hooks: Any,
    backend: Any,
    planned: Coroutine[Any, Any, None],
    action: Any,
    ctx: Any,
    format: Any,
    model_options: Mapping[str, Any] | None,
    tool_calls: bool,
    replan: Callable[[Any, dict[str, Any], bool], Coroutine[Any, Any, None]],
    base: dict[str, Any],
    names: dict[str, Any],
) -> Coroutine[Any, Any, None]:
    """Fire `generation_pre_call`; the coroutine to run (re-planned if the call changed).
    `planned` is closed whenever it is not returned."""
    if not hooks.on(PRE):
        return planned
    try:
        given = dict(model_options or {})
        payload = await hooks.dispatch(
            PRE,
            GenerationPreCallPayload(
                **base, **names, action=action, context=ctx, model_options=given,
                format=format, tool_calls=tool_calls,
            ),
            backend=backend,
        )  # fmt: skip
        changed = (payload.model_options, payload.format, payload.tool_calls) != (
            given, format, tool_calls
        )  # fmt: skip
        if not changed:
            return planned
    except BaseException:
        planned.close()
        raise
    planned.close()
    return replan(payload.format, dict(payload.model_options), payload.tool_calls)


async def _fire_post(
    hooks: Any, backend: Any, mot: Any, base: dict[str, Any], names: dict[str, Any], latency: float
) -> None:
    start = mot._started_at
    chunks = [(t - start) * 1000 for t in mot._chunk_times or []] if start is not None else []
    prompt = mot._prompt if isinstance(mot._prompt, str | list) else str(mot._prompt or "")
    await hooks.dispatch(
        POST,
        GenerationPostCallPayload(
            **{**base, "hook": POST},
            **names,
            prompt=prompt,
            model_output=mot,
            latency_ms=latency,
            chunk_times_ms=chunks,
        ),
        backend=backend,
    )


async def _fire_error(
    hooks: Any,
    backend: Any,
    mot: Any,
    exc: BaseException,
    base: dict[str, Any],
    names: dict[str, Any],
    latency: float,
) -> None:
    if not hooks.on(ERROR):
        return
    payload = GenerationErrorPayload(
        **{**base, "hook": ERROR}, **names, exception=exc, model_output=mot, latency_ms=latency
    )
    try:
        await hooks.dispatch(ERROR, payload, backend=backend)
    except MelleaError:  # the operation has failed already: a block adds nothing
        pass


# ----- the batch hook points (`generate_from_raw`) --------------------------------------------

BATCH_PRE, BATCH_POST, BATCH_ERROR = (
    "generation_batch_pre_call", "generation_batch_post_call", "generation_batch_error"
)  # fmt: skip


class Batch:
    """One `generate_from_raw` call being observed: its id, base fields and start time."""

    __slots__ = ("base", "names", "started")

    def __init__(self, base: dict[str, Any], names: dict[str, Any]) -> None:
        self.base, self.names, self.started = base, names, time.perf_counter()

    @property
    def id(self) -> str:
        """The batch's `generation_id`."""
        batch_id: str = self.names["generation_id"]
        return batch_id


async def batch_pre_call(
    backend: Any, actions: Sequence[Any], format: Any, model_options: Mapping[str, Any] | None,
    tool_calls: bool,
) -> tuple[Batch, Any, Mapping[str, Any] | None, bool]:  # fmt: skip
    """Fire `generation_batch_pre_call`; returns the batch and the (changed) call.

    A block fires `generation_batch_error` and raises `PluginViolationError`.
    """
    from .. import hooks

    batch_id = hooks.new_id()
    names = {"generation_id": batch_id, "model": backend.model_id}
    names["provider"] = getattr(backend, "provider", None)
    batch = Batch(_base.fields_here(batch_id, BATCH_PRE), names)
    if not hooks.on(BATCH_PRE):
        return batch, format, model_options, tool_calls
    try:
        payload = await hooks.dispatch(
            BATCH_PRE,
            GenerationBatchPreCallPayload(
                **batch.base, **names, actions=tuple(actions),
                model_options=dict(model_options or {}), format=format,
                tool_calls=tool_calls, num_actions=len(actions),
            ),
            backend=backend,
        )  # fmt: skip
    except MelleaError as exc:
        await _batch_error(hooks, backend, batch, exc)
        raise
    return batch, payload.format, payload.model_options, payload.tool_calls


def batch_watch(backend: Any, batch: Batch, mots: list[Any]) -> None:
    """Fire `generation_batch_post_call` (or `_error`) once every thunk has settled."""
    from .. import hooks

    if not (hooks.on(BATCH_POST) or hooks.on(BATCH_ERROR)):
        return

    async def watch() -> None:
        for mot in mots:
            await mot._wait_quietly()
        failed = next((m.error for m in mots if m.error is not None), None)
        if failed is not None:
            await _batch_error(hooks, backend, batch, failed)
            return
        if hooks.on(BATCH_POST):
            usage: dict[str, Any] = {}
            for mot in mots:
                for key, value in (mot.generation.usage or {}).items():
                    if isinstance(value, int):
                        usage[key] = usage.get(key, 0) + value
            payload = GenerationBatchPostCallPayload(
                **{**batch.base, "hook": BATCH_POST}, **batch.names, model_outputs=list(mots),
                usage=usage or None, latency_ms=(time.perf_counter() - batch.started) * 1000,
            )  # fmt: skip
            try:
                await hooks.dispatch(BATCH_POST, payload, backend=backend)
            except MelleaError:  # the batch has finished: a block changes nothing
                pass

    from ..._runtime.portal import get_portal

    hooks.track(asyncio.run_coroutine_threadsafe(watch(), get_portal().loop))


async def _batch_error(hooks: Any, backend: Any, batch: Batch, exc: BaseException) -> None:
    if not hooks.on(BATCH_ERROR):
        return
    payload = GenerationBatchErrorPayload(
        **{**batch.base, "hook": BATCH_ERROR}, **batch.names, exception=exc,
        latency_ms=(time.perf_counter() - batch.started) * 1000,
    )  # fmt: skip
    try:
        await hooks.dispatch(BATCH_ERROR, payload, backend=backend)
    except MelleaError:
        pass
