"""The plain-completion path of `ChatBackend` (`generate_from_raw`), as its base class.

A raw completion sends one component's text as is — no chat template, no history — and
settles its thunk through the same driver pieces as a chat call (`_settle`, the call
layers, the engine's admission gate). `ChatBackend` inherits it; engines that can do
plain completions override `_generate_raw` (and `raw_request_description`).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from .._runtime.portal import get_portal
from ..core import hooks
from ..core.base import CBlock, Component
from ..core.context import Context
from ..core.errors import InvalidOptionError
from ..core.thunk import ModelOutputThunk
from ._chat_parts import NO_GATE, RawCall, check_format, wait_for_inputs
from .backend import FormatterBackend
from .formatter import ChatFormatter, component_text
from .model_options import ResolvedOptions, resolve_options

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ._chat import AnyCall, CallLayer

logger = logging.getLogger("mellea")


class RawCompletions(FormatterBackend):
    """`generate_from_raw` and what only it uses; the rest of the driver is `ChatBackend`'s."""

    if TYPE_CHECKING:  # provided by `ChatBackend` (declared here for the type checker only)
        native_aliases: ClassVar[Mapping[str, str]]

        @property
        def chat_formatter(self) -> ChatFormatter | None: ...
        def _check_options(self, options: ResolvedOptions) -> None: ...
        def _new_thunk(self, action: Component[Any] | CBlock) -> ModelOutputThunk[Any]: ...
        @staticmethod
        def _chain(layers: tuple[CallLayer, ...]) -> tuple[CallLayer, ...]: ...
        def _through(
            self, layers: tuple[CallLayer, ...], call: AnyCall, mot: ModelOutputThunk[Any]
        ) -> Awaitable[None]: ...
        def _admission(self) -> contextlib.AbstractAsyncContextManager[None] | None: ...
        async def _settle(
            self,
            mot: ModelOutputThunk[Any],
            action: Component[Any] | CBlock,
            options: ResolvedOptions,
            format: type[BaseModel] | None,
            work: Callable[[], Awaitable[None]],
        ) -> None: ...

    def raw_request_description(self, call: RawCall) -> dict[str, Any]:
        """`request_description` of a plain completion: the prompt as sent, and the rest."""
        opts = call.options
        return {
            "prompt": call.prompt,
            "options": {
                "temperature": opts.temperature, "max_tokens": opts.max_tokens,
                "seed": opts.seed, "stop": opts.stop, "context_window": opts.context_window,
                **opts.extra,
            },
            "json_schema": call.json_schema,
        }  # fmt: skip

    async def generate_from_raw(
        self,
        actions: Sequence[Component[Any] | CBlock],
        ctx: Context,
        *,
        format: type[BaseModel] | None = None,
        model_options: Mapping[str, Any] | None = None,
        tool_calls: bool = False,
    ) -> list[ModelOutputThunk[Any]]:
        """One plain completion per action: its text sent as is, without chat template or
        history (`ctx` is not used). Returns the thunks at once, in order; they generate
        concurrently (the embedded engine decodes them in one batch) and each settles on
        its own, so one failed request does not fail the others.

        `format=` constrains and parses each completion as for `generate_from_context`.
        Tool calls need a chat request: `tool_calls=True` is ignored (with a warning).
        """
        return await self.start_raw(
            actions, format=format, model_options=model_options, tool_calls=tool_calls
        )

    async def start_raw(
        self,
        actions: Sequence[Component[Any] | CBlock],
        *,
        format: type[BaseModel] | None = None,
        model_options: Mapping[str, Any] | None = None,
        tool_calls: bool = False,
        layers: Sequence[CallLayer] = (),
    ) -> list[ModelOutputThunk[Any]]:
        """`generate_from_raw`, with `layers` (outermost first) seeing each completion's
        call before the engine does (as `start` for chat)."""
        batch = None
        if hooks.active:  # the batch hook points (pre-call may change or block the call)
            batch, format, model_options, tool_calls = await hooks.generation.batch_pre_call(
                self, actions, format, model_options, tool_calls
            )
        options = resolve_options(
            self.model_options, model_options, native_aliases=self.native_aliases
        )
        self._check_options(options)
        if format is not None:
            check_format(format)
        if tool_calls:
            logger.warning("generate_from_raw: tool calls need a chat request; ignored")
        mots = [self._new_thunk(action) for action in actions]  # claimed in order
        chain = self._chain(tuple(layers))
        # The requests' tasks copy the batch's observed context (a tracer: its span).
        observed = hooks.running(batch.id) if batch is not None else contextlib.nullcontext()
        with observed:
            for action, mot in zip(actions, mots, strict=True):
                mot._action = action
                mot._model_options = options.raw
                mot.generation.model = self.model_id
                mot.generation.provider = self.provider
                mot.generation.streaming = options.stream
                drive = self._drive_raw(mot, action, options, format, chain)
                mot._attach(get_portal().spawn(drive))
        if batch is not None:
            hooks.generation.batch_watch(self, batch, mots)
        return mots

    async def _drive_raw(
        self,
        mot: ModelOutputThunk[Any],
        action: Component[Any] | CBlock,
        options: ResolvedOptions,
        format: type[BaseModel] | None,
        layers: tuple[CallLayer, ...] = (),
    ) -> None:
        async def work() -> None:
            await wait_for_inputs([], action)
            fmt = self.chat_formatter
            prompt = fmt.print(action) if fmt is not None else component_text(action)
            if not prompt.strip():
                raise InvalidOptionError("the prompt is empty: there is nothing to complete")
            schema = format.model_json_schema() if format is not None else None
            call = RawCall(prompt, options, format, schema)
            mot._prompt = prompt
            if layers:  # (only a call that reaches the engine queues at its gate)
                mot._started_at = time.perf_counter()
                await self._through(layers, call, mot)
                return
            async with self._admission() or NO_GATE:
                mot._started_at = time.perf_counter()
                await self._generate_raw(call, mot)

        await self._settle(mot, action, options, format, work)

    async def _generate_raw(self, call: RawCall, mot: ModelOutputThunk[Any]) -> None:
        """Run a plain completion: `mot._feed(delta)` the text, fill `mot.generation`."""
        raise InvalidOptionError(f"{type(self).__name__} has no plain-completion request")


__all__ = ["RawCompletions"]
