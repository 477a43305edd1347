"""`Cache` and `SimpleLRUCache`: a small keyed store for model state (e.g. KV blocks).

Not the response cache: caching whole generations is a backend wrapper of its own.
"""

from __future__ import annotations

import abc
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any


class Cache(abc.ABC):
    """A keyed store of model state with a bounded size."""

    @abc.abstractmethod
    def put(self, key: str | int, value: Any) -> None:
        """Store `value` under `key` (may evict other entries)."""

    @abc.abstractmethod
    def get(self, key: str | int) -> Any | None:
        """The value under `key`, or None."""

    @abc.abstractmethod
    def current_size(self) -> int:
        """How many entries are stored."""


class SimpleLRUCache(Cache):
    """At most `capacity` entries; storing one more evicts the least recently used.

    `on_evict(value)` runs for each evicted value (e.g. to free the memory it holds);
    an exception it raises propagates to the `put` that evicted. Thread-safe.
    """

    def __init__(self, capacity: int, on_evict: Callable[[Any], None] | None = None) -> None:
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
            raise ValueError(f"capacity must be a positive int, got {capacity!r}")
        self.capacity = capacity
        self.on_evict = on_evict
        self.cache: OrderedDict[str | int, Any] = OrderedDict()
        self._lock = threading.Lock()

    def current_size(self) -> int:
        return len(self.cache)

    def get(self, key: str | int) -> Any | None:
        """The value under `key` (now the most recently used), or None."""
        with self._lock:
            if key not in self.cache:
                return None
            self.cache.move_to_end(key)
            return self.cache[key]

    def put(self, key: str | int, value: Any) -> None:
        """Store `value` as the most recently used entry, evicting beyond `capacity`."""
        evicted: list[Any] = []
        with self._lock:
            if key in self.cache:
                self.cache.move_to_end(key)
            self.cache[key] = value
            while len(self.cache) > self.capacity:
                evicted.append(self.cache.popitem(last=False)[1])
        if self.on_evict is not None:
            for old in evicted:  # outside the lock: the callback may use the cache
                self.on_evict(old)


__all__ = ["Cache", "SimpleLRUCache"]
