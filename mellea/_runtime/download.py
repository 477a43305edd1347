"""Fetching media referenced by URL: bounded in size and time, cached per URL.

Images and audio given as URLs are downloaded only when a backend needs the bytes inline
(Ollama, OpenAI audio). The result is kept in a small per-kind LRU cache so a URL reused
across turns is fetched once. Blocking: async code calls it through `asyncio.to_thread`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class DownloadCache:
    """A thread-safe LRU of URL -> bytes, fetched with a size cap and a timeout."""

    def __init__(self, *, max_entries: int, max_bytes: int, timeout_s: float) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def cached(self, url: str) -> bytes | None:
        """The bytes of `url` if they are in the cache (no I/O)."""
        with self._lock:
            data = self._entries.get(url)
            if data is not None:
                self._entries.move_to_end(url)
            return data

    def get(self, url: str) -> bytes:
        """The bytes at `url` (downloaded once); raises ValueError if they cannot be had."""
        data = self.cached(url)
        if data is not None:
            return data
        data = fetch(url, max_bytes=self.max_bytes, timeout_s=self.timeout_s)
        with self._lock:  # two threads racing on one URL both fetch; the last one is kept
            self._entries[url] = data
            self._entries.move_to_end(url)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return data

    def forget(self, url: str) -> None:
        with self._lock:
            self._entries.pop(url, None)


def fetch(url: str, *, max_bytes: int, timeout_s: float) -> bytes:
    """GET `url`; ValueError on a non-http(s) URL, an HTTP error, a timeout or > max_bytes.

    A plain blocking GET (urllib: proxies from the environment, redirects followed); it
    runs off the event loop, on the caller's thread or via `asyncio.to_thread`.
    """
    import urllib.error
    import urllib.request

    if not url.startswith(("http://", "https://")):
        raise ValueError(f"only http:// and https:// URLs can be fetched, got {url[:80]!r}")
    request = urllib.request.Request(url, headers={"User-Agent": "mellea"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            declared = response.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise ValueError(f"{url!r} is larger than the {max_bytes}-byte limit")
            body = response.read(max_bytes + 1)  # read one byte more to notice a lie
    except (urllib.error.URLError, OSError) as exc:  # HTTPError, timeouts, refused
        raise ValueError(f"could not download {url!r}: {exc}") from exc
    if len(body) > max_bytes:
        raise ValueError(f"{url!r} is larger than the {max_bytes}-byte limit")
    if not body:
        raise ValueError(f"{url!r} returned an empty body")
    return bytes(body)


__all__ = ["DownloadCache", "fetch"]
