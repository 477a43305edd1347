"""Module-level lazy attributes, so `import mellea` stays light."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_getattr(module_name: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` importing `exports[name]` ("pkg.mod" or "pkg.mod:attr") on use."""

    def __getattr__(name: str) -> Any:
        target = exports.get(name)
        if target is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        mod_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name != mod_name:  # a dependency of the module is missing: say so
                raise
            raise AttributeError(
                f"module {module_name!r} has no attribute {name!r} ({mod_name} is missing)"
            ) from exc
        value = getattr(module, attr) if attr else module
        import sys

        setattr(sys.modules[module_name], name, value)
        return value

    return __getattr__
