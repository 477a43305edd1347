"""The raw-client baselines: aiohttp used directly (the baseline every goal is set
against: the fastest widely used Python HTTP client), on the caller's loop or driven
from a thread through a loop of its own; raw httpx for reference.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
from collections.abc import Coroutine
from typing import Any

import aiohttp

HEADERS = {"Content-Type": "application/json"}


class RawAiohttp:
    """One `aiohttp.ClientSession` on the running loop; `post` returns the decoded body."""

    def __init__(self, base_url: str, limit: int = 256) -> None:
        self.base_url = base_url
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit))

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        data = json.dumps(body).encode()
        async with self.session.post(self.base_url + path, data=data, headers=HEADERS) as r:
            r.raise_for_status()
            return json.loads(await r.read())

    async def aclose(self) -> None:
        await self.session.close()


class ThreadedAiohttp:
    """Raw aiohttp for sync callers: its own loop on a thread, each call waits for a
    future — the same shape as mellea's sync methods over its I/O loop."""

    def __init__(self, base_url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.raw: RawAiohttp = self._run(self._make(base_url))

    async def _make(self, base_url: str) -> RawAiohttp:
        return RawAiohttp(base_url)

    def _run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self._run(self.raw.post(path, body))

    def submit(self, path: str, body: dict[str, Any]) -> concurrent.futures.Future[Any]:
        """The POST started on this object's loop (for async callers on another loop)."""
        return asyncio.run_coroutine_threadsafe(self.raw.post(path, body), self.loop)

    def close(self) -> None:
        self._run(self.raw.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
