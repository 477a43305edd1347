"""`ClientCache`: an LRU of async clients keyed by the event loop they are bound to.

Async HTTP clients belong to the loop that first used them and must be closed on it.
The cache closes a client when it is evicted (scheduled, never blocking the caller) and
on `clear()` / `aclear()`, on whichever loop owns it: the caller's own loop (a task, or
awaited by `aclear`), another thread's running loop (`run_coroutine_threadsafe`), a loop
that is not running (run to completion), mellea's I/O loop for clients made outside any
loop (key None). A client whose loop is already closed cannot be closed; it is dropped
and its sockets come back when it is garbage collected.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Hashable
from typing import Any

from .._runtime.portal import get_portal

logger = logging.getLogger("mellea")

CLIENT_CLOSE_TIMEOUT_S = 5.0
"""How long `clear()` waits for one client to close."""

Closer = Callable[[Any], Coroutine[Any, Any, None]]
_pending: set[asyncio.Task[None]] = set()  # strong refs to fire-and-forget close tasks


class ClientCache:
    """Up to `capacity` clients, least recently used evicted (and closed with `aclose`).

    Thread-safe. Build clients with `get_or_create`, which holds the lock across the miss
    and the insert, so two threads never both build one for the same key.
    """

    def __init__(self, capacity: int, *, aclose: Closer | None = None) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self.aclose = aclose
        self.cache: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def current_size(self) -> int:
        return len(self.cache)

    def get(self, key: Hashable) -> Any | None:
        """The client under `key` (now most recently used), or None."""
        with self._lock:
            return self._get(key)

    def put(self, key: Hashable, value: Any) -> None:
        """Cache `value` under `key`; an evicted client is closed (scheduled)."""
        with self._lock:
            evicted = self._put(key, value)
        if evicted is not None:
            self._close(*evicted, wait=False)

    def get_or_create(self, key: Hashable, factory: Callable[[], Any]) -> Any:
        """The client under `key`, built by `factory()` (under the lock) on a miss."""
        with self._lock:
            value = self._get(key)
            if value is not None:
                return value
            value = factory()
            evicted = self._put(key, value)
        if evicted is not None:
            self._close(*evicted, wait=False)
        return value

    def clear(self) -> None:
        """Empty the cache and close every client (waiting, except on the caller's loop)."""
        with self._lock:
            entries = list(self.cache.items())
            self.cache.clear()
        for key, value in entries:
            self._close(key, value, wait=True)

    async def aclear(self) -> None:
        """Empty the cache and close every client; those of this loop are awaited."""
        with self._lock:
            entries = list(self.cache.items())
            self.cache.clear()
        here = asyncio.get_running_loop()
        for key, value in entries:
            owner = key if isinstance(key, asyncio.AbstractEventLoop) else get_portal().loop
            if self.aclose is not None and owner is here:
                try:
                    await self.aclose(value)
                except Exception:
                    logger.debug("closing a cached client failed", exc_info=True)
            else:
                await asyncio.to_thread(self._close, key, value, wait=True)

    def _get(self, key: Hashable) -> Any | None:
        if key not in self.cache:
            return None
        self.cache.move_to_end(key)
        return self.cache[key]

    def _put(self, key: Hashable, value: Any) -> tuple[Hashable, Any] | None:
        # Replacing a key's value drops the old one without closing it: whoever built it
        # may be using it right now.
        self.cache[key] = value
        self.cache.move_to_end(key)
        if len(self.cache) > self.capacity:
            return self.cache.popitem(last=False)
        return None

    def _close(self, key: Hashable, value: Any, *, wait: bool) -> None:
        """Close `value` on the loop `key` (None: mellea's I/O loop). Never raises."""
        if self.aclose is None:
            return
        loop = key if isinstance(key, asyncio.AbstractEventLoop) else None
        try:
            if loop is None:
                loop = get_portal().loop
            if loop.is_closed():
                logger.debug("cannot close %s: its event loop is closed", type(value).__name__)
                return
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if loop is running:  # blocking here would deadlock: schedule it
                task = loop.create_task(self.aclose(value))
                _pending.add(task)
                task.add_done_callback(_pending.discard)
            elif loop.is_running():
                future = asyncio.run_coroutine_threadsafe(self.aclose(value), loop)
                if wait:
                    future.result(CLIENT_CLOSE_TIMEOUT_S)
            else:
                loop.run_until_complete(self.aclose(value))
        except (concurrent.futures.TimeoutError, TimeoutError):
            logger.debug("closing %s took too long; left scheduled", type(value).__name__)
        except Exception:
            logger.debug("closing a cached client failed", exc_info=True)


__all__ = ["CLIENT_CLOSE_TIMEOUT_S", "ClientCache"]
