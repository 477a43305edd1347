"""The `Backend` protocol: what every engine (local, Ollama, OpenAI-compatible, ...) offers."""

from __future__ import annotations

import abc
import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .._runtime.portal import run_sync
from ._blocks import CBlock, Component
from .thunk import ModelOutputThunk

if TYPE_CHECKING:
    from pydantic import BaseModel

    from .context import Context

BaseModelSubclass = TypeVar("BaseModelSubclass", bound="BaseModel")
"""A pydantic model class given as `format=` (structured output)."""

logger = logging.getLogger("mellea")


class Backend(abc.ABC):
    """An inference engine.

    `generate_from_context` returns at once: the thunk's generation runs in the background
    (on mellea's I/O loop), and the returned context already holds `action` and the thunk.
    `generate_from_raw` sends each action as a bare completion (no chat template, no
    history), one thunk per action.
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

    async def generate_from_raw(
        self,
        actions: Sequence[Component[Any] | CBlock],
        ctx: Context,
        *,
        format: type[BaseModel] | None = None,
        model_options: dict[str, Any] | None = None,
        tool_calls: bool = False,
    ) -> list[ModelOutputThunk[Any]]:
        """Complete each action's text as a raw prompt; one thunk per action, in order.

        No chat template and no history (`ctx` is not sent). Engines that can batch do so.
        The default raises `NotImplementedError`: an engine without a raw-completion
        interface says so rather than silently applying a chat template.
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not support raw completions (generate_from_raw)"
        )

    async def do_generate_walk(self, action: Component[Any] | CBlock) -> None:
        """Wait for every uncomputed thunk `action` depends on (they run concurrently)."""
        await self.do_generate_walks([action])

    async def do_generate_walks(self, actions: list[Component[Any] | CBlock]) -> None:
        """Wait for every uncomputed thunk any of `actions` depends on."""
        pending = [mot for action in actions for mot in generate_walk(action)]
        if pending:
            logger.debug("waiting for %d uncomputed input thunks", len(pending))
            await asyncio.gather(*(mot.avalue() for mot in pending))

    async def aclose(self) -> None:  # noqa: B027 - optional hook with a no-op default
        """Release connections / engines held by this backend."""

    def close(self) -> None:
        """Blocking `aclose()`."""
        run_sync(self.aclose())


def generate_walk(c: Component[Any] | CBlock) -> list[ModelOutputThunk[Any]]:
    """The uncomputed thunks `c` depends on: itself, or found through `parts()`, depth first.

    Each thunk is listed once; a component reached again (shared, or a cycle) is not
    walked twice.
    """
    # Iterative (an explicit stack, nodes visited in the recursive order): it runs on every
    # call, and a recursive closure would leave a reference cycle behind each time.
    found: list[ModelOutputThunk[Any]] = []
    seen: dict[int, object] = {}  # keeps what was visited alive, so no id is reused meanwhile
    stack: list[object] = [c]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen[id(node)] = node
        if isinstance(node, ModelOutputThunk):
            if not node.is_computed():
                found.append(node)
        elif isinstance(node, Component):
            parts = node.parts()
            if parts:
                stack.extend(reversed(parts))
        elif not isinstance(node, CBlock):
            raise TypeError(
                "parts() may only hold CBlocks, Components and ModelOutputThunks, "
                f"found {type(node).__name__}"
            )
    return found


__all__ = ["Backend", "BaseModelSubclass", "generate_walk"]
