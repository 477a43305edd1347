"""The built-in contexts: `SimpleContext` (no history sent) and `ChatContext` (history sent).

`ChatContext` can bound what it sends with `window_size` (last N items) or a compactor:

- `WindowCompactor(n)` — keep the last n items;
- `ThresholdCompactor(max_chars, keep_last)` — once the history is longer than
  `max_chars` characters, keep only the most recent items that fit (at least `keep_last`);
- `SummaryCompactor(trigger_items, keep_last)` — once the history has more than
  `trigger_items` items, older items are replaced by a model-written summary (one extra
  model call per compaction, cached until more history accumulates).

Compactors never drop a leading system message (`pin_system=True`, the default). The
stored history is never changed — compaction only shapes what a generation is sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.context import Context, ContextItem
from ..core.message import Message
from ..core.thunk import ModelOutputThunk

if TYPE_CHECKING:
    from typing import Self

    from ..core.backend import Backend


class SimpleContext(Context):
    """Each call sees only its own action: the history is kept but never sent."""

    __slots__ = ()

    def view_for_generation(self) -> list[ContextItem]:
        return []


class Compactor:
    """Shapes the history a `ChatContext` sends to the model."""

    pin_system: bool = True

    def compact(self, items: list[ContextItem]) -> list[ContextItem]:
        """Synchronous compaction (what `view_for_generation` applies)."""
        return items

    async def acompact(self, items: list[ContextItem], backend: Backend) -> list[ContextItem]:
        """Compaction that may call the model; defaults to `compact`."""
        return self.compact(items)

    def _split_pinned(
        self, items: list[ContextItem]
    ) -> tuple[list[ContextItem], list[ContextItem]]:
        if (
            self.pin_system
            and items
            and isinstance(items[0], Message)
            and items[0].role == "system"
        ):
            return items[:1], items[1:]
        return [], items


class WindowCompactor(Compactor):
    """Keep the last `window_size` items (plus a pinned system message)."""

    def __init__(self, window_size: int, *, pin_system: bool = True) -> None:
        if window_size < 1:
            raise ValueError(f"window_size must be >= 1, got {window_size}")
        self.window_size = window_size
        self.pin_system = pin_system

    def compact(self, items: list[ContextItem]) -> list[ContextItem]:
        pinned, rest = self._split_pinned(items)
        return pinned + rest[-self.window_size :]


def _size(item: ContextItem) -> int:
    if isinstance(item, Message):
        return len(item.content)
    if isinstance(item, ModelOutputThunk):
        return len(item.partial_value)
    text = getattr(item, "value", None)
    if isinstance(text, str):
        return len(text)
    try:
        formatted = item.format_for_llm()  # type: ignore[union-attr]
    except NotImplementedError:
        return 0
    return len(formatted) if isinstance(formatted, str) else len(str(formatted.args))


class ThresholdCompactor(Compactor):
    """Past `max_chars` characters of history, keep the newest items that fit."""

    def __init__(self, max_chars: int, *, keep_last: int = 2, pin_system: bool = True) -> None:
        if max_chars < 1 or keep_last < 0:
            raise ValueError("max_chars must be >= 1 and keep_last >= 0")
        self.max_chars = max_chars
        self.keep_last = keep_last
        self.pin_system = pin_system

    def compact(self, items: list[ContextItem]) -> list[ContextItem]:
        pinned, rest = self._split_pinned(items)
        budget = self.max_chars - sum(_size(i) for i in pinned)
        kept: list[ContextItem] = []
        for item in reversed(rest):
            size = _size(item)
            if len(kept) >= self.keep_last and size > budget:
                break
            kept.append(item)
            budget -= size
        kept.reverse()
        return pinned + kept


_SUMMARY_PROMPT = (
    "Summarize the conversation so far in a few sentences. Keep every fact, name, number "
    "and decision a continuation would need.\n\n{transcript}"
)


class SummaryCompactor(Compactor):
    """Past `trigger_items` items, replace all but the last `keep_last` with a summary."""

    def __init__(self, trigger_items: int = 12, *, keep_last: int = 4, pin_system: bool = True):
        if trigger_items <= keep_last:
            raise ValueError("trigger_items must be greater than keep_last")
        self.trigger_items = trigger_items
        self.keep_last = keep_last
        self.pin_system = pin_system
        self._cache: tuple[tuple[int, ...], Message] | None = None

    async def acompact(self, items: list[ContextItem], backend: Backend) -> list[ContextItem]:
        pinned, rest = self._split_pinned(items)
        if len(rest) <= self.trigger_items:
            return items
        old, recent = rest[: -self.keep_last], rest[-self.keep_last :]
        key = tuple(id(i) for i in old)
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, await self._summarize(old, backend))
        return [*pinned, self._cache[1], *recent]

    @staticmethod
    async def _summarize(old: list[ContextItem], backend: Backend) -> Message:
        from ..backends.formatter import to_message

        lines = [f"{m['role']}: {m['content']}" for m in map(to_message, old)]
        prompt = Message("user", _SUMMARY_PROMPT.format(transcript="\n".join(lines)))
        mot, _ = await backend.generate_from_context(prompt, SimpleContext())
        summary = await mot.avalue()
        return Message("system", f"Summary of the earlier conversation: {summary}")


class ChatContext(Context):
    """Multi-turn history, all of it sent to the model (bounded by `window_size`/`compactor`)."""

    __slots__ = ("compactor", "window_size")

    def __init__(self, window_size: int | None = None, *, compactor: Compactor | None = None):
        super().__init__()
        if window_size is not None and window_size < 1:
            raise ValueError(f"window_size must be >= 1 or None, got {window_size}")
        self.window_size = window_size
        self.compactor = compactor

    def _new_empty(self) -> Self:
        return type(self)(self.window_size, compactor=self.compactor)

    def view_for_generation(self) -> list[ContextItem]:
        items = self.as_list(self.window_size)
        return self.compactor.compact(items) if self.compactor is not None else items

    async def aview_for_generation(self, backend: Backend) -> list[ContextItem]:
        items = self.as_list(self.window_size)
        if self.compactor is None:
            return items
        return await self.compactor.acompact(items, backend)

    def __repr__(self) -> str:
        return f"ChatContext(<{len(self)} items>, window_size={self.window_size})"


__all__ = [
    "ChatContext",
    "Compactor",
    "SimpleContext",
    "SummaryCompactor",
    "ThresholdCompactor",
    "WindowCompactor",
]
