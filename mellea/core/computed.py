"""`ComputedModelOutputThunk`: a thunk that is known to be computed (its `.value` is a str)."""

from __future__ import annotations

from typing import Any, Literal, cast

from ._blocks import S
from .thunk import ModelOutputThunk


class ComputedModelOutputThunk(ModelOutputThunk[S]):
    """A `ModelOutputThunk` whose generation has finished: `.value` is always a `str`.

    `ComputedModelOutputThunk(mot)` does not copy: it checks that `mot` is computed and
    turns that same object into a `ComputedModelOutputThunk` (so contexts and sampling
    results holding it see the narrower type too). Sync APIs and sampling strategies
    return these, so callers' type checkers know no awaiting is needed.

    Raises `TypeError` if given something other than a thunk, `ValueError` if the thunk
    is not computed (still generating, failed or cancelled).
    """

    def __new__(cls, thunk: ModelOutputThunk[S] | None = None) -> ComputedModelOutputThunk[S]:
        if thunk is None:
            raise TypeError(
                "ComputedModelOutputThunk(thunk) wraps a computed ModelOutputThunk; none was given"
            )
        if not isinstance(thunk, ModelOutputThunk):
            raise TypeError(
                f"ComputedModelOutputThunk wraps a ModelOutputThunk, not {type(thunk).__name__}"
            )
        if not thunk.is_computed():
            raise ValueError(
                f"ComputedModelOutputThunk needs a computed thunk; this one is {thunk!r} "
                "(await thunk.avalue() first)"
            )
        thunk.__class__ = cls  # same object, narrower type: nothing is copied
        return cast("ComputedModelOutputThunk[S]", thunk)

    def __init__(self, thunk: ModelOutputThunk[S] | None = None) -> None:
        """Everything happened in `__new__` (the thunk keeps its state)."""

    @property
    def value(self) -> str:
        """The generated text."""
        return self._underlying_value or ""

    @value.setter
    def value(self, v: str) -> None:
        if not isinstance(v, str):
            raise TypeError(f"a computed thunk's value is a str, not {type(v).__name__}")
        ModelOutputThunk.value.fset(self, v)  # type: ignore[attr-defined]  # mypy reads a class's property as its getter

    def is_computed(self) -> Literal[True]:
        return True

    async def avalue(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"ComputedModelOutputThunk({self.value!r})"


def computed(thunk: ModelOutputThunk[Any]) -> ComputedModelOutputThunk[Any]:
    """`ComputedModelOutputThunk(thunk)` (a no-op on one that already is)."""
    if isinstance(thunk, ComputedModelOutputThunk):
        return thunk
    return ComputedModelOutputThunk(thunk)


__all__ = ["ComputedModelOutputThunk", "computed"]
