"""`PluginSet`: a named, nestable bundle of hooks and plugins, registered as a unit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .base import _Scoped

__all__ = ["PluginSet"]


class PluginSet(_Scoped):
    """A named group of `@hook` functions, plugin instances and nested sets.

    Inert until registered (`register(s)`, `start_session(plugins=[s])`, `with s:`).
    `priority` overrides the priority of everything inside, nested sets included.
    """

    def __init__(
        self,
        name: str,
        items: list[Callable[..., Any] | Any | PluginSet],
        *,
        priority: int | None = None,
    ) -> None:
        self.name = name
        self.items = list(items)
        self.priority = priority

    def flatten(self) -> list[tuple[Callable[..., Any] | Any, int | None]]:
        """Every item of this set and its nested sets, with its priority override."""
        flat: list[tuple[Callable[..., Any] | Any, int | None]] = []
        for item in self.items:
            if isinstance(item, PluginSet):
                for inner, inner_priority in item.flatten():
                    flat.append(
                        (inner, self.priority if self.priority is not None else inner_priority)
                    )
            else:
                flat.append((item, self.priority))
        return flat

    def _label(self) -> str:
        return f"PluginSet {self.name!r}"

    def __repr__(self) -> str:
        return f"PluginSet({self.name!r}, {len(self.items)} items)"
