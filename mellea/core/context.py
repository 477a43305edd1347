"""`Context`: an immutable linked list of what was said to and by the model.

`ctx.add(x)` returns a new context whose last element is `x`; the old one is unchanged, so
contexts can be shared, forked (session `clone()`), and kept as snapshots for free.
Subclasses decide what part of the history a generation sees (`view_for_generation`).
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .base import CBlock, Component
from .thunk import ModelOutputThunk

if TYPE_CHECKING:
    from typing import Self

    from .backend import Backend

ContextItem = Component[Any] | CBlock


@dataclass(frozen=True)
class ContextTurn:
    """One exchange: what went to the model (`input`) and what came back (`output`)."""

    input: ContextItem | None
    output: ModelOutputThunk[Any] | None


class Context(abc.ABC):
    """Immutable linked history; each node holds one component, block, or thunk."""

    __slots__ = ("_data", "_length", "_previous")

    def __init__(self) -> None:
        self._previous: Context | None = None
        self._data: ContextItem | None = None
        self._length = 0

    # Subclasses with settings override this so `add()` keeps them.
    def _new_empty(self) -> Self:
        return type(self)()

    def add(self, item: ContextItem) -> Self:
        """A new context: this history followed by `item`."""
        node = self._new_empty()
        node._previous = self
        node._data = item
        node._length = self._length + 1
        return node

    def reset_to_new(self) -> Self:
        """An empty context of the same kind and settings."""
        return self._new_empty()

    @property
    def is_root_node(self) -> bool:
        return self._previous is None

    @property
    def previous_node(self) -> Context | None:
        return self._previous

    @property
    def node_data(self) -> ContextItem | None:
        return self._data

    def __len__(self) -> int:
        return self._length

    def _iter_reversed(self) -> Iterator[ContextItem]:
        node: Context | None = self
        while node is not None and node._data is not None:
            yield node._data
            node = node._previous

    def as_list(self, last_n: int | None = None) -> list[ContextItem]:
        """The history, oldest first (only the last `last_n` items if given)."""
        items: list[ContextItem] = []
        for item in self._iter_reversed():
            if last_n is not None and len(items) >= last_n:
                break
            items.append(item)
        items.reverse()
        return items

    def last_output(self, check_last_n_components: int = 3) -> ModelOutputThunk[Any] | None:
        """The most recent model output among the last few items, if any."""
        for i, item in enumerate(self._iter_reversed()):
            if i >= check_last_n_components:
                break
            if isinstance(item, ModelOutputThunk):
                return item
        return None

    def last_turn(self) -> ContextTurn | None:
        """The last input/output pair (output None if the last item is an input)."""
        items = self.as_list(last_n=2)
        if not items:
            return None
        last = items[-1]
        if isinstance(last, ModelOutputThunk):
            model_input = items[0] if len(items) == 2 else None
            if isinstance(model_input, ModelOutputThunk):
                model_input = None
            return ContextTurn(model_input, last)
        return ContextTurn(last, None)

    @abc.abstractmethod
    def view_for_generation(self) -> list[ContextItem]:
        """The history a generation on this context sees (synchronous compaction only)."""

    async def aview_for_generation(self, backend: Backend) -> list[ContextItem]:
        """Like `view_for_generation`, also applying compaction that needs the model."""
        return self.view_for_generation()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<{self._length} items>)"


__all__ = ["Context", "ContextItem", "ContextTurn"]
