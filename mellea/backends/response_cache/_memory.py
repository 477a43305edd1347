"""The store protocol, and `MemoryStore`: an in-process LRU of responses."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Protocol

from ._response import CachedResponse


class CacheStore(Protocol):
    """Where a `CachedBackend` keeps responses, by request key.

    `get` returns None for anything it cannot serve (absent, expired, unreadable): a store
    never fails a call. Both run on mellea's I/O loop and must not block it.
    """

    async def get(self, key: str) -> CachedResponse | None: ...

    async def put(self, key: str, response: CachedResponse) -> None: ...


class MemoryStore:
    """Responses in this process's memory, least recently used evicted first.

    Args:
        max_entries: At most this many responses (None: no count limit).
        max_bytes: At most about this many bytes of text (None: no size limit).
        ttl: Seconds a response stays valid after it was stored (None: forever).
    """

    def __init__(
        self,
        *,
        max_entries: int | None = 10_000,
        max_bytes: int | None = 256 * 2**20,
        ttl: float | None = None,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.ttl = ttl
        self._entries: OrderedDict[str, tuple[CachedResponse, float]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        """Approximate bytes held."""
        return self._bytes

    async def get(self, key: str) -> CachedResponse | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            response, stored_at = found
            if self.ttl is not None and time.monotonic() - stored_at > self.ttl:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return response

    async def put(self, key: str, response: CachedResponse) -> None:
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (response, time.monotonic())
            self._bytes += response.size
            while self._entries and (
                (self.max_entries is not None and len(self._entries) > self.max_entries)
                or (self.max_bytes is not None and self._bytes > self.max_bytes)
            ):
                self._drop(next(iter(self._entries)))

    async def clear(self) -> None:
        """Forget every response."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _drop(self, key: str) -> None:
        response, _ = self._entries.pop(key)
        self._bytes -= response.size


__all__ = ["CacheStore", "MemoryStore"]
