"""Running async code from sync code: mellea's one I/O loop (see `mellea._runtime.portal`).

`_run_async_in_thread(co)` blocks until `co` finished on that loop; `_schedule_async_in_thread(co)`
starts it there and returns a `concurrent.futures.Future`. There is one loop for the
process (restarted after a fork), never one per call.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine
from typing import Any, TypeVar

from .._runtime.portal import get_portal, run_sync

R = TypeVar("R")


def _run_async_in_thread(co: Coroutine[Any, Any, R]) -> R:
    """Run `co` on mellea's I/O loop and return its result (blocking this thread)."""
    return run_sync(co)


def _schedule_async_in_thread(co: Coroutine[Any, Any, R]) -> concurrent.futures.Future[R]:
    """Start `co` on mellea's I/O loop now; its result arrives in the returned future."""
    return asyncio.run_coroutine_threadsafe(co, get_portal().loop)


__all__ = ["_run_async_in_thread", "_schedule_async_in_thread"]
