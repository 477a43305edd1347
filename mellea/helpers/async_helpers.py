"""Small async utilities for working with thunks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from ..core.thunk import ModelOutputThunk


async def wait_for_all_mots(mots: Iterable[ModelOutputThunk[Any]]) -> None:
    """Wait until every thunk is computed; they generate concurrently.

    The first failure is raised once all have settled, so no generation is left running
    unobserved; every thunk keeps its own result or error.
    """
    pending = [m for m in mots if not m.is_computed()]
    if not pending:
        return
    results = await asyncio.gather(*(m.avalue() for m in pending), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


__all__ = ["wait_for_all_mots"]
