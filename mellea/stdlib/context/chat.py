"""`ChatContext`: multi-turn history, sent to the model on every generation.

What a generation is sent can be bounded three ways, applied in this order:

1. `compactor=` (or `window_size=n`, sugar for `WindowCompactor(size=n)`, which keeps a
   leading system message) shapes the history;
2. `token_context_length_limit=` caps it at an estimated token budget, dropping the oldest
   items first (leading system messages stay);
3. without an explicit limit, the model's rated context length (from `model_id=`, else the
   generating backend's model) caps it at 75% of that length, when the model is known.

The stored history is never changed by any of these: `ctx.as_list()` keeps every turn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...core.context import Context, ContextItem
from ._tokens import MODEL_BUDGET_SHARE, item_tokens, model_context_length, newest_within
from .compactor import Compactor, WindowCompactor, acompact, pin_system

if TYPE_CHECKING:
    from typing import Self

    from ...backends.model_ids import ModelIdentifier
    from ...core.backend import Backend


class ChatContext(Context):
    """History that is sent: every earlier turn reaches the model (within the bounds set)."""

    __slots__ = ("_compactor", "_model_id", "_token_limit", "_window_size")

    def __init__(
        self,
        *,
        compactor: Compactor[ChatContext] | None = None,
        window_size: int | None = None,
        token_context_length_limit: int | None = None,
        model_id: str | ModelIdentifier | None = None,
    ) -> None:
        super().__init__()
        if window_size is not None:
            if compactor is not None:
                raise ValueError("pass either window_size= or compactor=, not both")
            if not isinstance(window_size, int) or window_size < 1:
                raise ValueError(f"window_size must be an int >= 1 or None, got {window_size!r}")
            compactor = WindowCompactor(size=window_size)
        if compactor is not None and not hasattr(compactor, "compact"):
            raise TypeError(f"compactor must have a compact() method, got {compactor!r}")
        if token_context_length_limit is not None and token_context_length_limit < 1:
            raise ValueError("token_context_length_limit must be >= 1 or None")
        self._compactor = compactor
        self._window_size = window_size
        self._token_limit = token_context_length_limit
        self._model_id = model_id

    def _new_empty(self) -> Self:
        new = type(self).__new__(type(self))
        Context.__init__(new)
        new._compactor = self._compactor
        new._window_size = self._window_size
        new._token_limit = self._token_limit
        new._model_id = self._model_id
        return new

    def new_instance(self) -> Self:
        """An empty `ChatContext` with this one's compactor, window, token limit and model."""
        return self._new_empty()

    @property
    def compactor(self) -> Compactor[ChatContext] | None:
        """The compactor shaping what generations are sent (None: the whole history)."""
        return self._compactor

    @property
    def window_size(self) -> int | None:
        """The `window_size=` this context was made with, if any."""
        return self._window_size

    @property
    def token_context_length_limit(self) -> int | None:
        """The explicit token budget for what is sent, if any."""
        return self._token_limit

    @property
    def model_id(self) -> str | ModelIdentifier | None:
        """The model whose context length bounds what is sent, if bound."""
        return self._model_id

    # ----- what a generation sees ---------------------------------------------------------

    def view_for_generation(self) -> list[ContextItem]:
        """The history a generation is sent (compacted, then within the token budget)."""
        ctx = self._compactor.compact(self) if self._compactor is not None else self
        return self._within_budget(ctx.as_list(), self._model_id)

    async def aview_for_generation(self, backend: Backend) -> list[ContextItem]:
        """Like `view_for_generation`; compaction that calls a model is awaited, and an
        unbound context takes its model-derived budget from `backend`'s model."""
        ctx = (
            self
            if self._compactor is None
            else await acompact(self._compactor, self, backend=backend)
        )
        model = self._model_id if self._model_id is not None else getattr(backend, "model_id", None)
        return self._within_budget(ctx.as_list(), model)

    def _budget(self, model: Any) -> int | None:
        if self._token_limit is not None:
            return self._token_limit
        length = model_context_length(model)
        return int(length * MODEL_BUDGET_SHARE) if length else None

    def _within_budget(self, items: list[ContextItem], model: Any) -> list[ContextItem]:
        budget = self._budget(model)
        if budget is None:
            return items
        pin_end = pin_system(items)
        pinned = items[:pin_end]
        left = budget - sum(item_tokens(i) for i in pinned)
        return pinned + newest_within(items[pin_end:], max(left, 0))

    def __repr__(self) -> str:
        settings = []
        if self._compactor is not None:
            settings.append(f"compactor={self._compactor!r}")
        if self._token_limit is not None:
            settings.append(f"token_context_length_limit={self._token_limit}")
        if self._model_id is not None:
            settings.append(f"model_id={self._model_id!r}")
        return f"ChatContext(<{len(self)} items>{''.join(', ' + s for s in settings)})"


__all__ = ["ChatContext"]
