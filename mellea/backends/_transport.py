"""A lean asyncio HTTP/1.1 transport for httpx.

``httpx.AsyncClient`` normally runs on httpcore + anyio, which costs ~3x more per request
than the bytes on the wire justify. All of mellea's backend I/O runs on one long-lived
event loop, so this module replaces that stack with plain ``asyncio.Protocol``
connections::

    client = httpx.AsyncClient(transport=FastAsyncTransport(), timeout=httpx.Timeout(30))

Behaviour worth knowing:

* HTTP/1.1 only, ``http`` and ``https``. No HTTP/2, no proxies: when a proxy is
  configured (``proxy=`` or ``HTTP(S)_PROXY`` in the environment with ``trust_env``),
  use httpx's default transport instead; this transport connects directly.
* Pooling: connections are keyed by (scheme, host, port); at most ``max_connections``
  exist at once across all hosts, further requests queue FIFO (bounded by the pool
  timeout); at most ``max_keepalive`` idle connections are kept, each for at most
  ``keepalive_expiry`` seconds. A connection is reused only after its response body was
  read completely and neither side asked for ``Connection: close``.
* Stale connections: a pooled connection that the server closed while idle is normally
  noticed (EOF) before reuse and discarded. If the close races with our request, i.e.
  the reused connection dies before a single response byte arrives, the request is
  retried once on a new connection, whatever its method, provided the body is in memory
  (not a consumed async iterator). That is what browsers and most HTTP clients do for
  an idle keep-alive connection; it means a non-idempotent request can reach a server
  twice if that server read it and then dropped the connection without answering.
* Timeouts come from ``request.extensions["timeout"]`` (httpx fills it from the
  client's ``timeout=``): ``connect`` bounds TCP connect + TLS handshake, ``read`` bounds
  each wait for response bytes (head and every body chunk), ``write`` bounds each wait
  for the socket to accept request bytes, ``pool`` bounds the wait for a free slot.
* Cancellation or an early ``aclose()`` of a response closes its connection (the server
  sees the disconnect) and frees the slot; nothing is returned to the pool in an
  unknown state. No tasks are created per request.

Not supported (by design): HTTP/2, proxies, Unix sockets, ``Expect: 100-continue`` (the
body is sent at once; an interim 100 is skipped), request trailers (response trailers
are read and discarded), protocol upgrades (a 101 is returned with an empty body and
its connection closed), pipelining, and the ``sni_hostname`` / ``network_stream``
extensions. One event loop only: the transport is not thread-safe.
"""

from __future__ import annotations

import ssl

import httpx

from ._transport_conn import BufferedStream, Connection, Key, ResponseStream
from ._transport_http11 import (
    LENGTH,
    MAX_HEAD_BYTES,
    NO_BODY,
    ParseError,
    ResponseHead,
    build_request_head,
    find_head_end,
    parse_response_head,
)
from ._transport_pool import ConnectionPool

__all__ = ["FastAsyncTransport"]

_DEFAULT_PORTS = {b"http": 80, b"https": 443}
_EMPTY = BufferedStream(b"")


class _NoResponse(Exception):
    """The connection ended before any byte of the response arrived."""

    def __init__(self, error: httpx.TransportError) -> None:
        super().__init__(str(error))
        self.error = error


class FastAsyncTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over asyncio protocols with a bounded keep-alive pool.

    Not thread-safe: use it from one event loop (the one it first ran on).
    """

    def __init__(
        self,
        *,
        max_connections: int = 100,
        max_keepalive: int = 100,
        keepalive_expiry: float = 15.0,
        ssl_context: ssl.SSLContext | None = None,
        connect_retries: int = 0,
    ) -> None:
        self._pool = ConnectionPool(
            max_connections=max_connections,
            max_keepalive=max_keepalive,
            keepalive_expiry=keepalive_expiry,
            ssl_context=ssl_context,
            connect_retries=connect_retries,
        )

    def stats(self) -> dict[str, int]:
        """Pool counters, for leak checks: ``open`` established connections, ``idle``
        pooled ones, ``in_use`` slots held by requests (including ones still
        connecting), ``waiters`` requests queued for a slot."""
        return self._pool.stats()

    async def aclose(self) -> None:
        """Close every connection, idle or in use, and fail queued requests. Idempotent."""
        self._pool.close()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.raw_scheme
        default_port = _DEFAULT_PORTS.get(scheme)
        if default_port is None:
            raise httpx.UnsupportedProtocol(
                f"FastAsyncTransport supports http and https, not {scheme!r}", request=request
            )
        key: Key = (scheme == b"https", url.raw_host.decode("ascii"), url.port or default_port)
        timeouts = request.extensions.get("timeout") or {}

        # An in-memory body is sent in one write and may be replayed; anything else is
        # an async iterable, streamed once.
        try:
            body: bytes | None = request.content
        except httpx.RequestNotRead:
            body = None
        try:
            method = request.method.encode("ascii")
            head = build_request_head(
                method,
                url.raw_path,
                request.headers.raw,
                url.netloc,
                None if body is None else len(body),
            )
        except (ValueError, UnicodeEncodeError) as exc:
            raise httpx.LocalProtocolError(str(exc), request=request) from None

        read_timeout = timeouts.get("read")
        pool = self._pool
        fresh = False
        while True:
            # Fast path: an idle pooled connection, taken without suspending.
            conn = None if fresh or pool.closed else pool.pop_idle(key)
            if conn is None:
                conn = await pool.acquire(key, request, timeouts, fresh)
            try:
                if body is not None:
                    await self._send_bytes(conn, head.data, body, request, timeouts)
                else:
                    await self._send_stream(conn, head.data, head.chunked, request, timeouts)
                resp = await self._read_head(conn, request, method, read_timeout)
                break
            except _NoResponse as exc:
                pool.release(conn, False)
                if conn.served and body is not None and not fresh:
                    fresh = True  # stale keep-alive connection: retry once, new socket
                    continue
                raise exc.error from None
            except BaseException:
                pool.release(conn, False)
                raise

        keep_alive = resp.keep_alive and head.keep_alive
        extensions = {"http_version": resp.version, "reason_phrase": resp.reason}
        if resp.mode == NO_BODY or (resp.mode == LENGTH and len(conn.buf) >= resp.length):
            # Whole body already buffered (typical small JSON reply): return the
            # connection now rather than when the caller gets round to reading.
            data = conn.take(resp.length) if resp.mode == LENGTH else b""
            conn.served += 1
            pool.release(conn, keep_alive and not conn.buf and not conn.eof)
            stream: httpx.AsyncByteStream = BufferedStream(data) if data else _EMPTY
        else:
            stream = ResponseStream(
                conn,
                pool.release,
                request,
                resp.mode,
                resp.length,
                keep_alive,
                read_timeout,
            )
        return httpx.Response(
            resp.status, headers=resp.headers, stream=stream, extensions=extensions
        )

    # -- request / response head ----------------------------------------------------------

    async def _send_bytes(
        self,
        conn: Connection,
        head: bytes,
        body: bytes,
        request: httpx.Request,
        timeouts: dict[str, float | None],
    ) -> None:
        transport = conn.transport
        assert transport is not None
        # One write for head + small body: one syscall, one TCP segment.
        if len(body) <= 65536:
            transport.write(head + body if body else head)
        else:
            transport.write(head)
            transport.write(body)
        if conn.write_paused:
            await self._drain(conn, timeouts.get("write"), request)

    async def _send_stream(
        self,
        conn: Connection,
        head: bytes,
        chunked: bool,
        request: httpx.Request,
        timeouts: dict[str, float | None],
    ) -> None:
        transport = conn.transport
        assert transport is not None
        write_timeout = timeouts.get("write")
        transport.write(head)
        stream = request.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        async for chunk in stream:
            if conn.lost:
                break  # the server gave up; reading the head reports why
            if not chunk:
                continue
            if chunked:
                transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
            else:
                transport.write(chunk)
            await self._drain(conn, write_timeout, request)
        if chunked and not conn.lost:
            transport.write(b"0\r\n\r\n")
        await self._drain(conn, write_timeout, request)

    @staticmethod
    async def _drain(conn: Connection, timeout: float | None, request: httpx.Request) -> None:
        while conn.write_paused and not conn.lost:
            if not await conn.wait(timeout):
                raise httpx.WriteTimeout("timed out writing the request", request=request)

    @staticmethod
    async def _read_head(
        conn: Connection, request: httpx.Request, method: bytes, timeout: float | None
    ) -> ResponseHead:
        buf = conn.buf
        got_bytes = False
        scanned = 0
        while True:
            end = find_head_end(buf, scanned)
            if end < 0 and len(buf) <= MAX_HEAD_BYTES:
                if conn.eof:
                    error = conn.read_error(request, "a complete response head")
                    if not buf and not got_bytes:
                        raise _NoResponse(error)
                    raise error
                scanned = max(0, len(buf) - 2)
                if not await conn.wait(timeout):
                    raise httpx.ReadTimeout("timed out waiting for the response", request=request)
                continue
            if end < 0 or end > MAX_HEAD_BYTES:
                raise httpx.RemoteProtocolError("response head too large", request=request)
            data = bytes(buf[:end])
            del buf[:end]
            got_bytes = True
            scanned = 0
            try:
                resp = parse_response_head(data, method)
            except ParseError as exc:
                raise httpx.RemoteProtocolError(str(exc), request=request) from None
            if 100 <= resp.status < 200 and resp.status != 101:
                continue  # interim response (100 Continue, 103 Early Hints): skip it
            if resp.status == 101:
                resp.keep_alive = False  # protocol upgrades are not supported
            return resp
