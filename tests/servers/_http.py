"""A small, fast HTTP/1.1 server on ``asyncio.Protocol`` (no framework).

Supports: request line + headers, ``Content-Length`` and chunked request bodies,
``Expect: 100-continue``, keep-alive with sequential (and pipelined) requests,
``Connection: close``, fixed-length and chunked responses, write flow control,
and detection of the client going away while a response is in progress.

Writes are buffered in the connection and sent with one ``transport.write`` per
``flush()``, so a burst of chunks costs one syscall.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable
from email.utils import formatdate
from http import HTTPStatus
from typing import Any

MAX_HEAD = 64 * 1024
JSON_TYPE = "application/json; charset=utf-8"

_conn_ids = itertools.count(1)
_status_lines: dict[int, bytes] = {}
_date_cache: tuple[int, str] = (0, "")


def status_line(status: int) -> bytes:
    line = _status_lines.get(status)
    if line is None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Unknown"
        line = _status_lines[status] = f"HTTP/1.1 {status} {phrase}\r\n".encode("latin-1")
    return line


def http_date() -> str:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


class ClientGone(Exception):
    """Raised when writing to a connection whose peer has gone away."""


class BadRequest(Exception):
    pass


class Request:
    __slots__ = ("body", "headers", "keep_alive", "method", "path", "query", "target", "version")

    def __init__(
        self, method: str, target: str, version: str, headers: dict[str, str], body: bytes
    ) -> None:
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        path, _, query = target.partition("?")
        self.path = path
        self.query = query
        conn = headers.get("connection", "").lower()
        if version == "HTTP/1.1":
            self.keep_alive = "close" not in conn
        else:
            self.keep_alive = "keep-alive" in conn

    def json(self) -> Any:
        """The parsed JSON body (None for an empty body); ValueError if invalid."""
        if not self.body:
            return None
        return json.loads(self.body)


Handler = Callable[[Request, "HttpConnection"], Awaitable[None]]


class HttpServer:
    """Owns the listening socket and the open connections."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections: set[HttpConnection] = set()
        self.on_close: Callable[[HttpConnection], None] | None = None
        self._server: asyncio.Server | None = None

    async def listen(self, host: str, port: int) -> int:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: HttpConnection(self), host, port, reuse_address=True, backlog=1024
        )
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = []
        for conn in list(self.connections):
            task = conn.abort()
            if task is not None:
                tasks.append(task)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None


class HttpConnection(asyncio.Protocol):
    """One client connection; handles its requests one at a time, in order."""

    def __init__(self, server: HttpServer) -> None:
        self.id = next(_conn_ids)
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.closed = False
        # Set by the application: control connections are not counted in stats.
        self.counted = False
        self._buf = bytearray()
        self._head: tuple[str, str, str, dict[str, str], int] | None = None
        self._sent_continue = False
        self._task: asyncio.Task[None] | None = None
        self._out: list[bytes] = []
        self._paused = False
        self._drain: asyncio.Future[None] | None = None
        self._server_abort = False
        # Per-response state, reset for every request.
        self.keep_alive = True
        self.status: int | None = None
        self.first_byte: float | None = None
        self.response_done = False
        self.client_gone = False

    # -- asyncio.Protocol ----------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server.connections.add(self)

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if self._task is None:
            self._dispatch()

    def eof_received(self) -> bool:
        return False  # close our side too -> connection_lost

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.connections.discard(self)
        if self._task is not None and not self.response_done:
            if not self._server_abort:
                self.client_gone = True
            self._task.cancel()
        if self._drain is not None and not self._drain.done():
            self._drain.set_exception(ClientGone())
            self._drain.exception()  # mark retrieved
        if self.server.on_close is not None:
            self.server.on_close(self)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    # -- request parsing -----------------------------------------------------

    def _dispatch(self) -> None:
        try:
            req = self._parse()
        except BadRequest as exc:
            self.keep_alive = False
            self.send(400, str(exc).encode(), "text/plain; charset=utf-8")
            self.flush()
            self._close_transport()
            return
        if req is not None:
            self._task = asyncio.get_running_loop().create_task(self._run(req))

    def _parse(self) -> Request | None:
        buf = self._buf
        if self._head is None:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > MAX_HEAD:
                    raise BadRequest("request head too large")
                return None
            lines = buf[:end].decode("latin-1").lstrip("\r\n").split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
                raise BadRequest("malformed request line")
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if not sep or not name or name != name.strip():
                    raise BadRequest("malformed header line")
                key = name.lower()
                value = value.strip()
                headers[key] = f"{headers[key]}, {value}" if key in headers else value
            self._head = (parts[0], parts[1], parts[2], headers, end + 4)
            self._sent_continue = False
        method, target, version, headers, start = self._head
        if "chunked" in headers.get("transfer-encoding", "").lower():
            parsed = _parse_chunked(buf, start)
            if parsed is None:
                self._maybe_continue(headers)
                return None
            body, consumed = parsed
        else:
            try:
                length = int(headers.get("content-length", "0"))
            except ValueError:
                raise BadRequest("bad Content-Length") from None
            if length < 0:
                raise BadRequest("bad Content-Length")
            consumed = start + length
            if len(buf) < consumed:
                self._maybe_continue(headers)
                return None
            body = bytes(buf[start:consumed])
        del buf[:consumed]
        self._head = None
        return Request(method, target, version, headers, body)

    def _maybe_continue(self, headers: dict[str, str]) -> None:
        if not self._sent_continue and headers.get("expect", "").lower() == "100-continue":
            self._sent_continue = True
            if self.transport is not None:
                self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    async def _run(self, req: Request) -> None:
        self.keep_alive = req.keep_alive
        self.status = None
        self.first_byte = None
        self.response_done = False
        self.client_gone = False
        try:
            await self.server.handler(req, self)
            self.flush()
        except (asyncio.CancelledError, ClientGone):
            pass
        except Exception:
            traceback.print_exc()
            if self.status is None and not self.closed:
                self.keep_alive = False
                self.send(500, b"loopback server error (see its stderr)", "text/plain")
        finally:
            self._task = None
        if self.closed:
            return
        if not self.response_done:  # the handler abandoned the response
            self.abort()
        elif not self.keep_alive:
            self._close_transport()
        elif self._buf:
            self._dispatch()

    # -- responses -----------------------------------------------------------

    def _write_head(
        self,
        status: int,
        content_type: str | None,
        framing: str,
        headers: Iterable[tuple[str, str]] | None,
    ) -> None:
        if self.closed:
            raise ClientGone()
        if self.first_byte is None:
            self.first_byte = time.monotonic()
        self.status = status
        parts = [status_line(status)]
        if content_type is not None:
            parts.append(b"Content-Type: %s\r\n" % content_type.encode("latin-1"))
        for name, value in headers or ():
            parts.append(f"{name}: {value}\r\n".encode("latin-1"))
        parts.append(b"Date: %s\r\n" % http_date().encode("latin-1"))
        if not self.keep_alive:
            parts.append(b"Connection: close\r\n")
        parts.append(framing.encode("latin-1"))
        self._out.append(b"".join(parts))

    def send(
        self,
        status: int,
        body: bytes,
        content_type: str | None = JSON_TYPE,
        headers: Iterable[tuple[str, str]] | None = None,
    ) -> None:
        """A complete response with Content-Length (flushed immediately)."""
        self._write_head(status, content_type, f"Content-Length: {len(body)}\r\n\r\n", headers)
        self._out.append(body)
        self.response_done = True
        self.flush()

    def send_json(
        self, status: int, obj: Any, headers: Iterable[tuple[str, str]] | None = None
    ) -> None:
        self.send(status, json.dumps(obj).encode(), JSON_TYPE, headers)

    def start_fixed(
        self,
        status: int,
        length: int,
        content_type: str | None,
        headers: Iterable[tuple[str, str]] | None = None,
    ) -> None:
        """Head of a Content-Length response whose body follows via ``write_raw``."""
        self._write_head(status, content_type, f"Content-Length: {length}\r\n\r\n", headers)

    def start_chunked(
        self, status: int, content_type: str, headers: Iterable[tuple[str, str]] | None = None
    ) -> None:
        self._write_head(status, content_type, "Transfer-Encoding: chunked\r\n\r\n", headers)

    def chunk(self, data: bytes) -> None:
        """Buffer one HTTP chunk (empty data is skipped: it would end the body)."""
        if data:
            self._out.append(b"%x\r\n%b\r\n" % (len(data), data))

    def end_chunked(self) -> None:
        self._out.append(b"0\r\n\r\n")
        self.response_done = True

    def write_raw(self, data: bytes, *, done: bool = False) -> None:
        self._out.append(data)
        if done:
            self.response_done = True

    def flush(self) -> None:
        if not self._out:
            return
        if self.closed or self.transport is None:
            self._out.clear()
            raise ClientGone()
        data = b"".join(self._out) if len(self._out) > 1 else self._out[0]
        self._out.clear()
        if self.first_byte is None:
            self.first_byte = time.monotonic()
        self.transport.write(data)

    async def drain(self) -> None:
        """Flush, then wait while the transport's write buffer is over its limit."""
        self.flush()
        if self._paused and not self.closed:
            self._drain = asyncio.get_running_loop().create_future()
            await self._drain

    def abort(self) -> asyncio.Task[None] | None:
        """Server-side abort (RST); not counted as a client disconnect."""
        self._server_abort = True
        self._out.clear()
        if self.transport is not None and not self.closed:
            self.transport.abort()
        return self._task

    def _close_transport(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.close()


def _parse_chunked(buf: bytearray, start: int) -> tuple[bytes, int] | None:
    """Decode a chunked request body; None while incomplete."""
    pos = start
    body = bytearray()
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        size_text = bytes(buf[pos:eol]).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise BadRequest("bad chunk size") from None
        pos = eol + 2
        if size == 0:
            # Skip trailers up to the empty line.
            while True:
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    return None
                if eol == pos:
                    return bytes(body), eol + 2
                pos = eol + 2
        if len(buf) < pos + size + 2:
            return None
        body += buf[pos : pos + size]
        pos += size + 2
