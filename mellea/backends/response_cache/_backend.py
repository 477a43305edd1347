"""`CachedBackend`: a response cache in front of any chat backend, with single flight.

The cache is a call layer (`mellea.backends._chat.CallLayer`): it sees each call after it
was rendered — the messages exactly as the engine would get them — and keys on the
engine's own description of the request (`ChatBackend.request_description`), so one
implementation serves the embedded engine, Ollama, OpenAI-compatible servers and LiteLLM.
`generate_from_raw` passes each plain completion of its batch through the same layer
(keyed on `raw_request_description`): the hits replay, only the misses are sent.

Each distinct key in flight is one `_Flight`, a task of its own: it looks the key up in
the store, and on a miss sends the call once, into a `Capture` that forwards every delta
to each waiting thunk. Identical calls arriving meanwhile join the flight (each thunk
keeps its own stream position). A thunk that is cancelled leaves its flight; the last one
out cancels the request. Only a generation that finished is stored — never an error or a
cancelled one.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...core.backend import Backend
from ...core.errors import BackendError, MelleaError
from ...core.thunk import ModelOutputThunk
from .._chat import AnyCall, CallLayer, ChatBackend, SendCall
from ._key import describe_call, request_key
from ._memory import CacheStore, MemoryStore
from ._response import CachedResponse, Capture

logger = logging.getLogger("mellea.cache")

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ...core.base import CBlock, Component
    from ...core.context import Context
    from ..tools import MelleaTool


class CacheOutcome(enum.StrEnum):
    """How a call was served (`mot.generation.extra["cache"]`)."""

    HIT = "hit"
    """Replayed from the store; no request was sent."""
    MISS = "miss"
    """Sent to the engine (and stored if it finished)."""
    SHARED = "shared"
    """Joined an identical call in flight; no request of its own."""
    BYPASS = "bypass"
    """Not cacheable (sampled without a seed) and sent to the engine."""


@dataclass
class CacheStats:
    """Counters of one `CachedBackend` (one per `CacheOutcome`, and responses stored)."""

    hits: int = 0
    misses: int = 0
    shared: int = 0
    bypassed: int = 0
    stored: int = 0


def is_deterministic(backend: ChatBackend, call: AnyCall) -> bool:
    """True if the call asks for greedy decoding (temperature 0) or fixes a seed."""
    opts = call.options
    temperature = opts.temperature if opts.temperature is not None else backend.default_temperature
    return temperature == 0 or opts.seed is not None


class CacheLayer:
    """The response cache as a call layer (what `CachedBackend` puts before its backend)."""

    def __init__(
        self, store: CacheStore, *, cache_all: bool = False, replay_speed: float | None = None
    ) -> None:
        self.store = store
        self.cache_all = cache_all
        self.replay_speed = replay_speed
        self.stats = CacheStats()
        self._flights: dict[str, _Flight] = {}
        self._store_warned = False

    async def handle(
        self, backend: ChatBackend, call: AnyCall, mot: ModelOutputThunk[Any], send: SendCall
    ) -> None:
        # A stored response keeps text and metadata, not per-token logits: a call that
        # asks for them always goes to the engine.
        opts = call.options
        if (
            opts.logits
            or opts.raw_logits
            or not (self.cache_all or is_deterministic(backend, call))
        ):
            self.stats.bypassed += 1
            mot.generation.extra["cache"] = CacheOutcome.BYPASS.value
            await send(call, mot)
            return
        key = request_key(describe_call(backend, call))
        flight = self._flights.get(key)
        leader = flight is None
        if flight is None:
            flight = self._flights[key] = _Flight()
            flight.task = asyncio.get_running_loop().create_task(self._fly(key, flight, call, send))
        await flight.follow(mot, call.tools, self.replay_speed, self.stats, leader=leader)

    async def _fly(self, key: str, flight: _Flight, call: AnyCall, send: SendCall) -> None:
        try:
            response = await self._lookup(key)
            if response is not None:
                flight.settle(response=response)
                return
            capture = flight.start_sending()
            try:
                await send(call, capture)
            except asyncio.CancelledError:
                raise
            except MelleaError as exc:
                self._land(key, flight)  # a later identical call tries again
                flight.settle(error=exc)
                return
            except Exception as exc:  # an engine bug: still settle every follower, typed
                error = BackendError(f"the cached call failed: {exc!r}")
                error.__cause__ = exc
                self._land(key, flight)
                flight.settle(error=error)
                return
            response = CachedResponse.of(capture)
            flight.settle(capture=capture)
            await self._keep(key, response)
        finally:
            self._land(key, flight)
            flight.settle(error=BackendError("the cached call ended without an answer"))

    async def _lookup(self, key: str) -> CachedResponse | None:
        try:
            return await self.store.get(key)
        except Exception as exc:  # a store must never fail a call (ours do not raise)
            self._store_failed(exc)
            return None

    async def _keep(self, key: str, response: CachedResponse) -> None:
        try:
            await self.store.put(key, response)
        except Exception as exc:
            self._store_failed(exc)
        else:
            self.stats.stored += 1

    def _store_failed(self, exc: Exception) -> None:
        level = logging.WARNING if not self._store_warned else logging.DEBUG
        self._store_warned = True
        logger.log(level, "response cache store %r failed (%r); a miss", self.store, exc)

    def _land(self, key: str, flight: _Flight) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]


class _Flight:
    """One key in flight: its lookup, then its single request (see the module docstring)."""

    __slots__ = ("capture", "done", "error", "followers", "response", "sending", "task")

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None
        self.sending = asyncio.Event()  # set once the outcome of the lookup is known
        self.done = asyncio.Event()
        self.capture: Capture | None = None
        self.response: CachedResponse | None = None
        self.error: MelleaError | None = None
        self.followers = 0

    def start_sending(self) -> Capture:
        self.capture = Capture()
        self.sending.set()
        return self.capture

    def settle(
        self,
        *,
        response: CachedResponse | None = None,
        capture: Capture | None = None,
        error: MelleaError | None = None,
    ) -> None:
        if self.done.is_set():
            return
        self.response, self.error = response, error
        if capture is not None:
            self.capture = capture
        self.sending.set()
        self.done.set()

    async def follow(
        self,
        mot: ModelOutputThunk[Any],
        tools: dict[str, MelleaTool[Any, Any]],
        replay_speed: float | None,
        stats: CacheStats,
        *,
        leader: bool,
    ) -> None:
        self.followers += 1
        subscribed: Capture | None = None
        try:
            await self.sending.wait()
            if self.response is not None:
                stats.hits += 1
                mot.generation.extra["cache"] = CacheOutcome.HIT.value
                await self.response.replay(mot, tools, replay_speed)
                return
            if self.capture is not None:
                subscribed = self.capture
                subscribed.subscribe(mot)
            await self.done.wait()
            if self.error is not None:
                raise _own_copy(self.error)
            assert self.capture is not None
            self.capture.copy_outcome(mot)
            outcome = CacheOutcome.MISS if leader else CacheOutcome.SHARED
            stats.misses += outcome is CacheOutcome.MISS
            stats.shared += outcome is CacheOutcome.SHARED
            mot.generation.extra["cache"] = outcome.value
        except asyncio.CancelledError:
            await self._leave(mot, subscribed)
            raise
        finally:
            self.followers -= 1

    async def _leave(self, mot: ModelOutputThunk[Any], subscribed: Capture | None) -> None:
        if subscribed is not None:
            subscribed.unsubscribe(mot)
        task = self.task
        if self.followers == 1 and not self.done.is_set() and task is not None:
            # The last reader left: stop the request, and wait until it really stopped.
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def _own_copy(error: MelleaError) -> MelleaError:
    """A copy of `error` for one more thunk (each thunk's error is its own object)."""
    clone = type(error).__new__(type(error))
    clone.args = error.args
    clone.__dict__.update(error.__dict__)
    clone.__cause__ = error.__cause__
    return clone


class CachedBackend(Backend):
    """`backend` with a response cache in front of it.

    Args:
        backend: Any chat backend (embedded, Ollama, OpenAI-compatible, LiteLLM), or
            another wrapper of one.
        store: Where responses live: `MemoryStore()` (the default) or `SQLiteStore(path)`.
        cache_all: Also cache calls that sample (temperature > 0 without a seed). By
            default only deterministic calls — temperature 0, or a fixed seed — are served
            from the cache; the others always reach the model. Calls asking for logits
            (`ModelOption.LOGITS` / `RAW_LOGITS`) always reach it too: a stored
            response keeps no logits.
        replay_speed: Replay a hit at this multiple of its recorded pace (1.0: as it
            streamed originally); None (default) delivers all its chunks at once.

    A hit is a real `ModelOutputThunk`: the recorded chunks (same boundaries), usage,
    finish reasons and tool calls, with `mot.generation.extra["cache"] == "hit"`.
    """

    def __init__(
        self,
        backend: ChatBackend | CachedBackend,
        store: CacheStore | None = None,
        *,
        cache_all: bool = False,
        replay_speed: float | None = None,
    ) -> None:
        if not isinstance(backend, ChatBackend | CachedBackend):
            raise TypeError(
                f"CachedBackend wraps a chat backend (local, ollama, openai, litellm), "
                f"got {type(backend).__name__}"
            )
        if replay_speed is not None and not replay_speed > 0:
            raise ValueError(f"replay_speed must be > 0 or None, got {replay_speed!r}")
        self.backend = backend
        self.layer = CacheLayer(
            MemoryStore() if store is None else store,
            cache_all=cache_all, replay_speed=replay_speed,
        )  # fmt: skip

    @property
    def model_id(self) -> str:  # type: ignore[override]  # read through, never set here
        return self.backend.model_id

    @property
    def model_options(self) -> dict[str, Any]:  # type: ignore[override]  # ditto
        return self.backend.model_options

    @property
    def provider(self) -> str:
        return self.backend.provider

    @property
    def store(self) -> CacheStore:
        return self.layer.store

    @property
    def stats(self) -> CacheStats:
        return self.layer.stats

    def __repr__(self) -> str:
        return f"CachedBackend({self.backend!r}, store={self.store!r})"

    def __getattr__(self, name: str) -> Any:
        # Transparent for the wrapped backend's public attributes (base_url, formatter...).
        if name.startswith("_") or name == "backend":
            raise AttributeError(name)
        return getattr(self.backend, name)

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
        return mot, ctx.add(action).add(mot)

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
        """Start a generation through the cache (and any `layers` under it)."""
        return self.backend.start(
            action, ctx, format=format, model_options=model_options, tool_calls=tool_calls,
            layers=(self.layer, *layers),
        )  # fmt: skip

    async def generate_from_raw(
        self,
        actions: Sequence[Component[Any] | CBlock],
        ctx: Context,
        *,
        format: type[BaseModel] | None = None,
        model_options: Mapping[str, Any] | None = None,
        tool_calls: bool = False,
    ) -> list[ModelOutputThunk[Any]]:
        """The wrapped backend's plain completions, each one cached as a call of its own:
        the hits replay, only the misses reach the engine; the thunks come back in order."""
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
        """Start plain completions through the cache (and any `layers` under it)."""
        return await self.backend.start_raw(
            actions, format=format, model_options=model_options, tool_calls=tool_calls,
            layers=(self.layer, *layers),
        )  # fmt: skip

    async def aclose(self) -> None:
        """Close the wrapped backend (the store stays open: other backends may share it)."""
        await self.backend.aclose()


__all__ = ["CacheLayer", "CacheOutcome", "CacheStats", "CachedBackend", "is_deterministic"]
