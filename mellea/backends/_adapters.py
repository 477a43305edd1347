"""The reference's adapter (LoRA / aLoRA "intrinsics") entry points on the HTTP engines.

Serving adapters is not part of this implementation yet: no backend holds any, so
`list_adapters()` is empty and asking for one raises a clear error instead of silently
generating without it.
"""

from __future__ import annotations

from typing import Any

_WHY = (
    "adapters (LoRA/aLoRA intrinsics) are not supported by mellea's {name} yet; "
    "use a model served with the adapter merged, or a requirement without an adapter"
)


class NoAdapters:
    """Adapter methods of a backend that serves none."""

    def add_adapter(self, adapter: Any, *, config: dict[str, Any] | None = None) -> None:
        """Register an adapter: not supported (raises `NotImplementedError`)."""
        raise NotImplementedError(_WHY.format(name=type(self).__name__))

    def list_adapters(self) -> list[str]:
        """The registered adapters' names: none."""
        return []

    def resolve_adapter(self, name: str) -> Any:
        """The adapter for a capability: there is none (raises `LookupError`)."""
        raise LookupError(f"no adapter named {name!r}: " + _WHY.format(name=type(self).__name__))


def refuse_adapter_arguments(backend: str, **given: Any) -> None:
    """Raise `NotImplementedError` when a constructor was asked to load adapters."""
    asked = [name for name, value in given.items() if value]
    if asked:
        raise NotImplementedError(f"{', '.join(asked)}: " + _WHY.format(name=backend))


__all__ = ["NoAdapters", "refuse_adapter_arguments"]
