"""`Context`: an immutable linked list of what was said to and by the model.

`ctx.add(x)` returns a new context whose last element is `x`; the old one is unchanged, so
contexts can be shared, forked (session `clone()`), and kept as snapshots for free.
Subclasses decide what part of the history a generation sees (`view_for_generation`).

A subclass's settings (window size, compactor, ...) are instance attributes that every
node of its history shares: `add()` builds the new node with `from_previous`, which
copies them without calling the subclass's `__init__` (so it may take required
arguments). Subclasses with `__slots__` override `_new_empty` instead.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ._blocks import CBlock, Component
from .message import Message
from .thunk import ModelOutputThunk

if TYPE_CHECKING:
    from typing import Self

    from .backend import Backend

ContextItem = Component[Any] | CBlock
"""What a context holds: a component, a block, or a model output (a `ModelOutputThunk`)."""
Span = ContextItem
"""The reference's name for a context item."""
ContextT = TypeVar("ContextT", bound="Context")


class ContextTypeMismatchError(TypeError):
    """A call returned a different kind of `Context` than it was given.

    Functions hand back the same context type they received; a strategy or backend that
    changes it is a bug, unless the caller allowed it (`allow_context_type_change=True`).
    """

    def __init__(self, input_type: type, output_type: type) -> None:
        super().__init__(
            f"the context type changed from {input_type.__name__} to {output_type.__name__}; "
            "pass allow_context_type_change=True if that is intended"
        )
        self.input_type = input_type
        self.output_type = output_type


@dataclass(frozen=True)
class ContextTurn:
    """One exchange: what went to the model (`model_input`) and what came back (`output`)."""

    model_input: ContextItem | None
    output: ModelOutputThunk[Any] | Component[Any] | None

    @property
    def input(self) -> ContextItem | None:
        """Alias of `model_input`."""
        return self.model_input


class Context(abc.ABC):
    """Immutable linked history; each node holds one component, block, or thunk."""

    __slots__ = ("_data", "_length", "_previous")

    _is_chat_context: bool = True
    """Whether the context is used in chat (multi-turn) mode; subclasses may say not."""

    def __init__(self) -> None:
        self._previous: Context | None = None
        self._data: ContextItem | None = None
        self._length = 0

    def _new_empty(self) -> Self:
        """An empty node of this class carrying this node's settings (no `__init__` call)."""
        cls = type(self)
        node = cls.__new__(cls)
        node._previous = None
        node._data = None
        node._length = 0
        # (`__dictoffset__`, not getattr(..., "__dict__", None): on a slotted context that
        # would raise and swallow an AttributeError on every turn)
        if cls.__dictoffset__:
            settings = self.__dict__
            if settings:
                node.__dict__.update(settings)
        return node

    @classmethod
    def from_previous(cls: type[ContextT], previous: Context, data: ContextItem) -> ContextT:
        """A new `cls` node holding `data` after `previous` (and `previous`'s settings)."""
        if type(previous) is not cls and not isinstance(previous, Context):
            raise TypeError(f"a context follows a Context, not {type(previous).__name__}")
        if data is None:
            raise TypeError("a context node holds a component, block or thunk, not None")
        if type(previous) is cls:
            node = previous._new_empty()
        else:
            node = cls.__new__(cls)
            Context.__init__(node)
        node._previous = previous
        node._data = data
        node._length = previous._length + 1
        return node

    def add(self, c: ContextItem) -> Self:
        """A new context: this history followed by `c`."""
        return type(self).from_previous(self, c)

    def _add_turn(self, action: ContextItem, output: ContextItem) -> Self:
        """`self.add(action).add(output)`: how backends record the turn they generated
        (subclasses may skip checks meant for content a program adds itself)."""
        return self.add(action).add(output)

    def reset_to_new(self) -> Self:
        """An empty context of the same kind and settings."""
        return self._new_empty()

    def new_instance(self) -> Self:
        """An empty context of the same kind and settings (as `reset_to_new()`)."""
        return self._new_empty()

    @property
    def is_chat_context(self) -> bool:
        """Whether the context is used in chat (multi-turn) mode."""
        return self._is_chat_context

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

    def as_list(self, last_n_components: int | None = None) -> list[ContextItem]:
        """The history, oldest first (only the last `last_n_components` items if given)."""
        items: list[ContextItem] = []
        for item in self._iter_reversed():
            if last_n_components is not None and len(items) >= last_n_components:
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
        items = self.as_list(last_n_components=2)
        if not items:
            return None
        last = items[-1]
        # A reply is a model output, or an assistant message the user added by hand.
        if isinstance(last, ModelOutputThunk) or (
            isinstance(last, Message) and last.role == "assistant"
        ):
            model_input = items[0] if len(items) == 2 else None
            if isinstance(model_input, ModelOutputThunk):
                model_input = None
            return ContextTurn(model_input, last)
        return ContextTurn(last, None)

    @abc.abstractmethod
    def view_for_generation(self) -> list[ContextItem] | None:
        """The history a generation on this context sees (synchronous compaction only).

        None means no consistent view can be given right now.
        """

    async def aview_for_generation(self, backend: Backend) -> list[ContextItem] | None:
        """Like `view_for_generation`, also applying compaction that needs the model."""
        return self.view_for_generation()

    def actions_for_available_tools(self) -> list[ContextItem] | None:
        """The items whose tools a generation on this context may offer (its view)."""
        return self.view_for_generation()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<{self._length} items>)"


__all__ = [
    "Context",
    "ContextItem",
    "ContextT",
    "ContextTurn",
    "ContextTypeMismatchError",
    "Span",
]
