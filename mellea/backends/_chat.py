"""`ChatBackend`: everything engines share — options, thunks, rendering, parsing.

An engine subclass only turns a `ChatCall` into text fed to the thunk (`_generate`). The
call runs as a task on mellea's I/O loop (the portal), so `generate_from_context` returns
at once and the thunk fills in the background.

Between the rendered call and the engine may sit *call layers* (`CallLayer`): the response
cache and test record/replay (`mellea.backends.response_cache`, `mellea.testing`). A layer
sees the call, may answer it itself or pass it on; `request_description` is what they key
on. With no layer the path is unchanged (the admission gate before the request is built).

The plain-completion path (`generate_from_raw`) is the base class, in `_chat_raw`.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from .._runtime.portal import get_portal
from ..core import hooks
from ..core.base import CBlock, Component
from ..core.context import Context
from ..core.errors import (
    BackendError,
    ComponentParseError,
    GenerationCancelled,
    InvalidOptionError,
    MelleaError,
)
from ..core.thunk import ModelOutputThunk
from ._chat_parts import (
    NO_GATE,
    RawCall,
    check_format,
    check_prompt,
    pending_inputs,
    wait_for,
)
from ._chat_raw import RawCompletions
from ._policy import call_deadline
from .formatter import (
    ChatFormatter,
    ChatMessage,
    to_chat_messages,
)
from .model_ids import ModelIdentifier
from .model_options import ResolvedOptions, resolve_options
from .tools import MelleaTool, action_tools, normalize_tools

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ..core.context import ContextItem

logger = logging.getLogger("mellea")


@dataclass
class ChatCall:
    """One request, engine-neutral: the messages and the validated options."""

    messages: list[ChatMessage]
    options: ResolvedOptions
    format: type[BaseModel] | None = None
    json_schema: dict[str, Any] | None = None
    tool_calls: bool = False
    tools: dict[str, MelleaTool[..., Any]] = field(default_factory=dict)


AnyCall = ChatCall | RawCall
"""What call layers see: a chat request, or a plain completion (`generate_from_raw`)."""

SendCall = Callable[[AnyCall, ModelOutputThunk[Any]], Awaitable[None]]
"""Pass a call on: to the next layer, in the end to the engine (through its admission gate)."""


class CallLayer(Protocol):
    """Stands between a rendered call and the engine (a response cache, a test recorder).

    `handle` either answers the call itself (feeds `mot`, fills `mot.generation`, returns)
    or awaits `send(call, mot)` — possibly with another thunk that it then copies from.
    Raising a `MelleaError` fails the thunk with it.
    """

    async def handle(
        self, backend: ChatBackend, call: AnyCall, mot: ModelOutputThunk[Any], send: SendCall
    ) -> None: ...


_process_layers: tuple[CallLayer, ...] = ()

_NO_HISTORY: tuple[ContextItem, ...] = ()
"""What a generation sees of a context that sends none (shared: nothing adds to it)."""


def set_process_layers(layers: Sequence[CallLayer]) -> tuple[CallLayer, ...]:
    """Put `layers` innermost (nearest the engine) under every call in this process.

    Returns the previous ones. For test tooling (the pytest record/replay plugin), which
    must see generations of backends it did not build; applications wrap backends instead.
    """
    global _process_layers
    previous, _process_layers = _process_layers, tuple(layers)
    return previous


def _passed_now(gate: object) -> Callable[[], None] | None:
    """Pass `gate` (an `Admission`, or another engine's async context manager) at once if
    it is open and can say so; returns how to leave it (None: use `async with`)."""
    try_enter = getattr(gate, "try_enter", None)
    if try_enter is not None and try_enter():
        leave: Callable[[], None] = getattr(gate, "leave")  # noqa: B009 - duck-typed
        return leave
    return None


class ChatBackend(RawCompletions):
    """Base of the chat engines (local, Ollama, OpenAI-compatible, LiteLLM, dummy)."""

    provider: ClassVar[str] = "chat"
    native_aliases: ClassVar[Mapping[str, str]] = {}
    """Backend-native option names folded into `ModelOption` keys (the latter win)."""
    supports_logits: ClassVar[bool] = False
    """Whether the engine can return `ModelOption.LOGITS` / `RAW_LOGITS`."""
    default_temperature: ClassVar[float | None] = None
    """The temperature the engine samples at when none is given (None: the server decides)."""

    def __init__(
        self,
        model_id: str | ModelIdentifier,
        formatter: Any = None,
        *,
        model_options: Mapping[str, Any] | None = None,
    ) -> None:
        if formatter is not None and not isinstance(formatter, ChatFormatter):
            raise TypeError(
                f"formatter must be a ChatFormatter (e.g. TemplateFormatter), got {formatter!r}"
            )
        super().__init__(model_id, formatter, model_options=model_options)
        # Validate construction-time options now: a bad option fails here, not per call.
        self._check_options(resolve_options(self.model_options, native_aliases=self.native_aliases))

    @property
    def chat_formatter(self) -> ChatFormatter | None:
        """The formatter rendering components into messages (None: mellea's default)."""
        formatter = self.formatter  # (None first: isinstance against an ABC costs a call)
        return formatter if formatter is not None and isinstance(formatter, ChatFormatter) else None

    def _check_options(self, options: ResolvedOptions) -> None:
        """Refuse what this engine cannot do (before any request)."""
        if (options.logits or options.raw_logits) and not self.supports_logits:
            raise InvalidOptionError(
                f"{type(self).__name__} cannot return logits (ModelOption.LOGITS / RAW_LOGITS): "
                "only the embedded engine computes them (start_session('local'))"
            )

    # ----- the Backend protocol ------------------------------------------------------

    async def generate_from_context(
        self,
        action: Component[Any] | CBlock,
        ctx: Context,
        *,
        format: type[BaseModel] | None = None,
        model_options: Mapping[str, Any] | None = None,
        tool_calls: bool = False,
    ) -> tuple[ModelOutputThunk[Any], Context]:
        mot = self.start(
            action, ctx, format=format, model_options=model_options, tool_calls=tool_calls
        )
        return mot, ctx._add_turn(action, mot)

    def start(
        self,
        action: Component[Any] | CBlock,
        ctx: Context,
        *,
        format: type[BaseModel] | None = None,
        model_options: Mapping[str, Any] | None = None,
        tool_calls: bool = False,
        layers: Sequence[CallLayer] = (),
    ) -> ModelOutputThunk[Any]:
        """Validate, create the thunk and start its generation on the I/O loop (no await).

        `layers` (outermost first) see the rendered call before the engine does.
        """
        layers = tuple(layers)
        options, tools = self._validated(action, format, model_options, tool_calls)
        mot = self._new_thunk(action)
        coro = self._planned(mot, action, ctx, layers, options, format, tool_calls, tools)
        if hooks.active:  # the generation hook points (pre-call may change or block the call)
            replan = functools.partial(self._replan, mot, action, ctx, layers)
            coro = hooks.generation.around(
                self, mot, coro, action, ctx, format, model_options, tool_calls, replan
            )
        mot._attach(get_portal().spawn(coro))
        return mot

    def _validated(
        self,
        action: Component[Any] | CBlock,
        format: type[BaseModel] | None,
        model_options: Mapping[str, Any] | None,
        tool_calls: bool,
    ) -> tuple[ResolvedOptions, dict[str, MelleaTool[..., Any]]]:
        """The call's options and tools, checked (raises before any thunk exists)."""
        options = resolve_options(
            self.model_options, model_options, native_aliases=self.native_aliases
        )
        self._check_options(options)
        if format is not None:
            check_format(format)
        tools = normalize_tools(options.tools) if options.tools else {}
        if tool_calls:  # a component may offer tools of its own (an MObject's methods)
            tools = {**action_tools(action), **tools}
        return options, tools

    def _replan(
        self,
        mot: ModelOutputThunk[Any],
        action: Component[Any] | CBlock,
        ctx: Context,
        layers: tuple[CallLayer, ...],
        format: type[BaseModel] | None,
        model_options: Mapping[str, Any] | None,
        tool_calls: bool,
    ) -> Coroutine[Any, Any, None]:
        """The generation again, for a call a `generation_pre_call` hook changed."""
        options, tools = self._validated(action, format, model_options, tool_calls)
        return self._planned(mot, action, ctx, layers, options, format, tool_calls, tools)

    def _planned(
        self,
        mot: ModelOutputThunk[Any],
        action: Component[Any] | CBlock,
        ctx: Context,
        layers: tuple[CallLayer, ...],
        options: ResolvedOptions,
        format: type[BaseModel] | None,
        tool_calls: bool,
        tools: dict[str, MelleaTool[..., Any]],
    ) -> Coroutine[Any, Any, None]:
        mot._action = action
        mot._model_options = options.raw
        gen = mot.generation
        gen.model = self.model_id
        gen.provider = self.provider
        gen.streaming = options.stream
        return self._drive(
            mot, action, ctx, options, format, tool_calls, tools, self._chain(layers)
        )

    @staticmethod
    def _chain(layers: tuple[CallLayer, ...]) -> tuple[CallLayer, ...]:
        """A call's layers: the caller's, then the process-wide ones (innermost)."""
        return (*layers, *_process_layers) if _process_layers else layers

    def request_description(self, call: ChatCall) -> dict[str, Any]:
        """What this engine would send for `call`, as plain JSON-able data.

        It holds everything that determines the answer (messages as sent, sampling options,
        output schema, tools) and nothing that does not (stream flag, timeouts, credentials).
        Call layers key on it. Engines override it with their own request body.
        """
        opts = call.options
        return {
            "messages": call.messages,
            "options": {
                "temperature": opts.temperature, "max_tokens": opts.max_tokens,
                "seed": opts.seed, "stop": opts.stop, "context_window": opts.context_window,
                "thinking": opts.thinking, "tool_choice": opts.tool_choice, **opts.extra,
            },
            "json_schema": call.json_schema,
            "tools": [t.as_json_tool for t in call.tools.values()],
        }  # fmt: skip

    def _new_thunk(self, action: Component[Any] | CBlock) -> ModelOutputThunk[Any]:
        """The thunk of a call being started (before its generation is scheduled)."""
        return ModelOutputThunk()

    # ----- the driver (runs on the portal loop) -------------------------------------

    async def _drive(
        self,
        mot: ModelOutputThunk[Any],
        action: Component[Any] | CBlock,
        ctx: Context,
        options: ResolvedOptions,
        format: type[BaseModel] | None,
        tool_calls: bool,
        tools: dict[str, MelleaTool[..., Any]],
        layers: tuple[CallLayer, ...] = (),
    ) -> None:
        """The whole chat call, settling the thunk: one coroutine frame while the call
        waits (for its inputs, at the gate), as a parked call's memory is mostly frames."""
        try:
            async with NO_GATE if options.timeout is None else call_deadline(options.timeout):
                if type(ctx).aview_for_generation is Context.aview_for_generation:
                    history = ctx.view_for_generation() or _NO_HISTORY  # no model compaction
                else:
                    history = await ctx.aview_for_generation(self) or _NO_HISTORY
                pending = pending_inputs(history, action)
                if pending:
                    await wait_for(pending)
                del pending
                # With layers, only a call that reaches the engine queues at its gate.
                gate = None if layers else self._admission()
                if gate is None:
                    await self._run(
                        mot, action, history, options, format, tool_calls, tools, layers
                    )
                elif (leave := _passed_now(gate)) is not None:  # open: no gate coroutines
                    try:
                        await self._run(
                            mot, action, history, options, format, tool_calls, tools, layers
                        )
                    finally:
                        leave()
                else:
                    async with gate:
                        await self._run(
                            mot, action, history, options, format, tool_calls, tools, layers
                        )
            mot._resolve(self._parse(action, mot, format))
        except asyncio.CancelledError:
            mot._fail(GenerationCancelled("the generation was cancelled"), cancelled=True)
            raise
        except MelleaError as exc:
            mot._fail(exc)
        except Exception as exc:  # an engine bug must still settle the thunk, typed
            mot._fail(self._engine_bug(exc))

    async def _settle(
        self,
        mot: ModelOutputThunk[Any],
        action: Component[Any] | CBlock,
        options: ResolvedOptions,
        format: type[BaseModel] | None,
        work: Callable[[], Awaitable[None]],
    ) -> None:
        """Run `work` under the call's deadline, then resolve or fail the thunk, typed."""
        try:
            # (no deadline: skip the context manager — a parked call stays small)
            deadline = NO_GATE if options.timeout is None else call_deadline(options.timeout)
            async with deadline:
                await work()
            mot._resolve(self._parse(action, mot, format))
        except asyncio.CancelledError:
            mot._fail(GenerationCancelled("the generation was cancelled"), cancelled=True)
            raise
        except MelleaError as exc:
            mot._fail(exc)
        except Exception as exc:  # an engine bug must still settle the thunk, typed
            mot._fail(self._engine_bug(exc))

    def _engine_bug(self, exc: Exception) -> BackendError:
        logger.debug("unexpected error in %s", type(self).__name__, exc_info=True)
        error = BackendError(f"{type(self).__name__} failed: {exc!r}")
        error.__cause__ = exc
        return error

    async def _run(
        self,
        mot: ModelOutputThunk[Any],
        action: Component[Any] | CBlock,
        history: Sequence[ContextItem],
        options: ResolvedOptions,
        format: type[BaseModel] | None,
        tool_calls: bool,
        tools: dict[str, MelleaTool[..., Any]],
        layers: tuple[CallLayer, ...] = (),
    ) -> None:
        call = ChatCall(
            messages=to_chat_messages(
                history, action, options.system_prompt, formatter=self.chat_formatter
            ),
            options=options,
            format=format,
            json_schema=format.model_json_schema() if format is not None else None,
            tool_calls=tool_calls,
            tools=tools,
        )
        mot._prompt = call.messages
        check_prompt(call.messages)
        mot._started_at = time.perf_counter()
        if layers:
            await self._through(layers, call, mot)
        else:
            await self._generate(call, mot)

    def _through(
        self, layers: tuple[CallLayer, ...], call: AnyCall, mot: ModelOutputThunk[Any]
    ) -> Awaitable[None]:
        if not layers:
            return self._send_gated(call, mot)
        rest = layers[1:]
        return layers[0].handle(self, call, mot, lambda c, m: self._through(rest, c, m))

    async def _send_gated(self, call: AnyCall, mot: ModelOutputThunk[Any]) -> None:
        async with self._admission() or NO_GATE:
            if isinstance(call, RawCall):
                await self._generate_raw(call, mot)
            else:
                await self._generate(call, mot)

    def _admission(self) -> contextlib.AbstractAsyncContextManager[None] | None:
        """Where calls beyond the engine's capacity queue (None: no limit here)."""
        return None

    @staticmethod
    def _parse(
        action: Component[Any] | CBlock, mot: ModelOutputThunk[Any], format: type[BaseModel] | None
    ) -> Any:
        text = mot.partial_value
        if format is not None:
            try:
                return format.model_validate_json(text)
            except ValueError as exc:
                # Not a thunk failure: the text is kept; strategies treat it as a failed sample.
                mot.generation.extra["parse_error"] = ComponentParseError(
                    f"output does not match {format.__name__}: {exc}", partial_output=text
                )
                return None
        if isinstance(action, Component) and not isinstance(action, CBlock):
            try:
                return action.parse(mot._parse_view(text))
            except ComponentParseError as exc:
                mot.generation.extra["parse_error"] = exc
        return None

    @abc.abstractmethod
    async def _generate(self, call: ChatCall, mot: ModelOutputThunk[Any]) -> None:
        """Run the call: `mot._feed(delta)` the text, fill `mot.generation`/`tool_calls`."""
