"""A finished generation as data (`CachedResponse`), captured from and replayed into thunks.

`Capture` is the thunk an engine writes into while call layers listen: every delta is
kept with its time and forwarded, as it arrives, to the thunks subscribed to it (a late
subscriber first gets the deltas so far, in their original pieces). When the engine is
done, `CachedResponse.of(capture)` is what gets stored, and `copy_outcome` gives every
subscriber the same usage, finish reasons and tool calls. `replay` feeds a stored
response into a fresh thunk, chunk by chunk, optionally at its recorded pace.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...core.thunk import ModelOutputThunk

if TYPE_CHECKING:
    from ..tools import MelleaTool

_TRANSIENT_EXTRA = frozenset({"replica", "parse_error", "sampling", "cache"})
"""`generation.extra` keys that describe one delivery, not the answer: never stored."""


@dataclass(frozen=True, slots=True)
class CachedResponse:
    """What a model answered: the streamed chunks (original boundaries) and its metadata."""

    chunks: tuple[str, ...]
    offsets_ms: tuple[float, ...] | None = None
    """When each chunk arrived, in ms after the request went out (None: not recorded)."""
    tool_calls: tuple[dict[str, Any], ...] = ()
    """`{"name", "arguments", "id"}` per tool call, in order."""
    usage: dict[str, int] | None = None
    finish_reasons: list[str] | None = None
    response_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    """JSON-able `generation.extra` entries (e.g. `thinking`)."""

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    @property
    def size(self) -> int:
        """Rough bytes held (for the stores' size limits)."""
        return 200 + sum(len(c) for c in self.chunks) + 8 * len(self.offsets_ms or ())

    @classmethod
    def of(cls, capture: Capture) -> CachedResponse:
        """The response a finished capture holds."""
        gen = capture.generation
        calls = tuple(
            {"name": tc.name, "arguments": tc.args, "id": tc.call_id}
            for tc in (capture.tool_calls or {}).values()
        )
        extra = {k: v for k, v in gen.extra.items() if k not in _TRANSIENT_EXTRA and _is_json(v)}
        return cls(
            chunks=tuple(capture.chunks), offsets_ms=tuple(capture.offsets_ms),
            tool_calls=calls, usage=gen.usage, finish_reasons=gen.finish_reasons,
            response_id=gen.response_id, extra=extra,
        )  # fmt: skip

    def to_json(self, *, timing: bool = True) -> dict[str, Any]:
        """Plain JSON data (the stores' and cassettes' form); `timing=False` drops offsets."""
        out: dict[str, Any] = {"chunks": list(self.chunks)}
        if timing and self.offsets_ms is not None:
            out["offsets_ms"] = [round(t, 1) for t in self.offsets_ms]
        if self.tool_calls:
            out["tool_calls"] = [dict(tc) for tc in self.tool_calls]
        for name in ("usage", "finish_reasons", "response_id"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.extra:
            out["extra"] = self.extra
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CachedResponse:
        """Inverse of `to_json`; raises `ValueError` on anything malformed."""
        try:
            chunks = tuple(data["chunks"])
            offsets = data.get("offsets_ms")
            calls = tuple(dict(tc) for tc in data.get("tool_calls") or ())
            response = cls(
                chunks=chunks,
                offsets_ms=None if offsets is None else tuple(float(t) for t in offsets),
                tool_calls=calls, usage=data.get("usage"),
                finish_reasons=data.get("finish_reasons"),
                response_id=data.get("response_id"), extra=dict(data.get("extra") or {}),
            )  # fmt: skip
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a stored response: {exc!r}") from None
        if not all(isinstance(c, str) for c in chunks) or any(
            not isinstance(tc.get("name"), str) for tc in calls
        ):
            raise ValueError("not a stored response: chunks must be str, tool calls named")
        if offsets is not None and len(offsets) != len(chunks):
            raise ValueError("not a stored response: one offset per chunk expected")
        return response

    def finish(self, mot: ModelOutputThunk[Any], tools: dict[str, MelleaTool[Any, Any]]) -> None:
        """Fill `mot`'s metadata and tool calls as the original generation had them."""
        from ..tools import add_tool_call, parse_tool_call

        gen = mot.generation
        gen.usage = None if self.usage is None else dict(self.usage)
        gen.finish_reasons = None if self.finish_reasons is None else list(self.finish_reasons)
        gen.response_id = self.response_id
        gen.extra.update(self.extra)
        for tc in self.tool_calls:
            call = parse_tool_call(tc["name"], tc.get("arguments"), tools, tc.get("id"))
            mot.tool_calls = add_tool_call(mot.tool_calls, call)

    async def replay(
        self,
        mot: ModelOutputThunk[Any],
        tools: dict[str, MelleaTool[Any, Any]],
        speed: float | None,
    ) -> None:
        """Feed the chunks into `mot` (at `speed` x the recorded pace; None: at once)."""
        offsets = self.offsets_ms
        if speed is not None and offsets:
            start, scale = time.perf_counter(), 1 / (1000 * speed)
            for chunk, at in zip(self.chunks, offsets, strict=True):
                delay = at * scale - (time.perf_counter() - start)
                if delay > 0:
                    await asyncio.sleep(delay)
                mot._feed(chunk)
        else:
            for chunk in self.chunks:
                mot._feed(chunk)
        self.finish(mot, tools)


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


class Capture(ModelOutputThunk[Any]):
    """The thunk an engine feeds while layers listen (see the module docstring).

    Thread-safe: the embedded engine feeds from its own thread.
    """

    def __init__(self) -> None:
        super().__init__()
        self._started_at = self._t0 = time.perf_counter()
        self.chunks: list[str] = []
        self.offsets_ms: list[float] = []
        self._subscribers: list[ModelOutputThunk[Any]] = []
        self._tee_lock = threading.Lock()

    def _feed(self, delta: str) -> None:
        if not delta:
            return
        with self._tee_lock:
            super()._feed(delta)  # the engine may read partial_value (e.g. to decide a retry)
            self.chunks.append(delta)
            self.offsets_ms.append((time.perf_counter() - self._t0) * 1000)
            subscribers = tuple(self._subscribers)
        for mot in subscribers:
            mot._feed(delta)

    def subscribe(self, mot: ModelOutputThunk[Any]) -> None:
        """Forward every delta to `mot`, starting with those already fed."""
        with self._tee_lock:
            for chunk in self.chunks:
                mot._feed(chunk)
            self._subscribers.append(mot)

    def unsubscribe(self, mot: ModelOutputThunk[Any]) -> int:
        """Stop forwarding to `mot`; returns how many subscribers remain."""
        with self._tee_lock:
            if mot in self._subscribers:
                self._subscribers.remove(mot)
            return len(self._subscribers)

    def copy_outcome(self, mot: ModelOutputThunk[Any]) -> None:
        """Give `mot` the finished generation's metadata and tool calls (the text it has)."""
        src, dst = self.generation, mot.generation
        dst.usage, dst.finish_reasons = src.usage, src.finish_reasons
        dst.response_id, dst.attempts = src.response_id, src.attempts
        dst.extra.update({k: v for k, v in src.extra.items() if k != "parse_error"})
        if self.tool_calls:
            mot.tool_calls = dict(self.tool_calls)


__all__ = ["CachedResponse", "Capture"]
