"""The `Backend` protocol: what every engine (local, Ollama, OpenAI-compatible, ...) offers."""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any

from .base import CBlock, Component

if TYPE_CHECKING:
    from pydantic import BaseModel

    from .context import Context
    from .thunk import ModelOutputThunk


class Backend(abc.ABC):
    """An inference engine.

    `generate_from_context` returns at once: the thunk's generation runs in the background
    (on mellea's I/O loop), and the returned context already holds `action` and the thunk.
    """

    model_id: str
    model_options: dict[str, Any]

    @abc.abstractmethod
    async def generate_from_context(
        self,
        action: Component[Any] | CBlock,
        ctx: Context,
        *,
        format: type[BaseModel] | None = None,
        model_options: dict[str, Any] | None = None,
        tool_calls: bool = False,
    ) -> tuple[ModelOutputThunk[Any], Context]:
        """Start generating the model's response to `action` given `ctx`."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook with a no-op default
        """Release connections / engines held by this backend."""

    def close(self) -> None:
        """Blocking `aclose()`."""
        from ..helpers.portal import run_sync

        run_sync(self.aclose())


__all__ = ["Backend"]
