"""The request body as an aiohttp payload that bounds each write wait (the write timeout,
which aiohttp itself lacks) and records whether the whole request was written — what
decides if a failed attempt may be retried.

Imported on first use only: it subclasses aiohttp's `Payload`, and aiohttp is imported
in a worker thread when a backend's first request opens its session.
"""

from __future__ import annotations

import asyncio

from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import Payload

_WRITE_PIECE = 64 * 1024
"""Bodies up to this size fit the socket buffer: writing them never waits."""


class WriteStalled(TimeoutError):
    """The server stopped reading the request body for `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no progress writing the request body for {seconds:g} s")
        self.seconds = seconds


class RequestBody(Payload):
    """JSON request bytes; `sent` turns True once every byte was handed to the socket."""

    def __init__(self, content: bytes, write_timeout: float | None) -> None:
        super().__init__(content, content_type="application/json")
        self._size = len(content)
        self.write_timeout = write_timeout
        self.sent = False

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        value: bytes = self._value
        return value.decode(encoding, errors)

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        value: bytes = self._value
        if content_length is not None and content_length < len(value):
            value = value[:content_length]
        seconds = self.write_timeout
        if seconds is None or len(value) <= _WRITE_PIECE:
            await writer.write(value)
        else:
            data = memoryview(value)
            for start in range(0, len(data), _WRITE_PIECE):
                try:
                    async with asyncio.timeout(seconds):
                        await writer.write(data[start : start + _WRITE_PIECE])
                except TimeoutError:
                    raise WriteStalled(seconds) from None
        self.sent = True


__all__ = ["RequestBody", "WriteStalled"]
