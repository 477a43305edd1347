"""Behavioural tests for FastAsyncTransport against raw in-process servers."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from mellea.backends._transport import FastAsyncTransport
from mellea.backends._transport_conn import HIGH_WATER, LOW_WATER
from mellea.backends._transport_http11 import (
    CHUNKED,
    LENGTH,
    NO_BODY,
    UNTIL_CLOSE,
    ChunkedDecoder,
    ParseError,
    build_request_head,
    find_head_end,
    parse_response_head,
)

from ._servers import RawServer, ServerConn, echo_handler, free_port, make_self_signed_cert

if TYPE_CHECKING:  # the loopback server is optional: only its type is needed here
    from tests.servers.loopback import LoopbackServer

pytestmark = pytest.mark.timeout(20)


def client(t: FastAsyncTransport, **timeouts: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=t, timeout=httpx.Timeout(5.0, **timeouts))


def assert_no_leak(t: FastAsyncTransport) -> None:
    s = t.stats()
    assert s["in_use"] == 0, s
    assert s["waiters"] == 0, s
    assert s["open"] == s["idle"], s


def our_tasks() -> set[asyncio.Task[object]]:
    """Tasks other than the test itself and the server's per-connection handlers."""
    me = asyncio.current_task()
    return {
        t
        for t in asyncio.all_tasks()
        if t is not me and "_on_conn" not in repr(t.get_coro()) and not t.done()
    }


@pytest.fixture
async def transport() -> AsyncIterator[FastAsyncTransport]:
    t = FastAsyncTransport()
    yield t
    await t.aclose()


# -- wire format (pure functions) -------------------------------------------------------

CHUNKED_BODY = b"5;ext=1\r\nhello\r\n1 \r\n \r\nB\nworld, more\n0\r\nT: 1\r\n\r\nNEXT"


@pytest.mark.parametrize("step", [1, 2, 3, 5, 7, 11, 1000])
def test_chunked_decoder_handles_every_split(step: int) -> None:
    decoder, buf, out = ChunkedDecoder(), bytearray(), bytearray()
    for i in range(0, len(CHUNKED_BODY), step):
        buf += CHUNKED_BODY[i : i + step]
        if not decoder.done:
            out += decoder.decode(buf)
    assert decoder.done
    assert out == b"hello world, more"
    assert buf == b"NEXT"  # bytes after the body are left for the caller to judge


def test_chunked_decoder_delivers_data_before_a_framing_error() -> None:
    decoder, buf = ChunkedDecoder(), bytearray(b"5\r\nhelloXX")
    assert decoder.decode(buf) == b"hello"
    with pytest.raises(ParseError):
        decoder.decode(buf)
    for bad in (b"0x5\r\n", b"+5\r\n", b"\r\n", b"1_0\r\n", b"z\r\n", b"1" * 9000):
        with pytest.raises(ParseError):
            ChunkedDecoder().decode(bytearray(bad))


def test_parse_response_head() -> None:
    head = parse_response_head(
        b"HTTP/1.1 404 Not  Found\r\nA: 1\r\nB:2 \r\nContent-Length: 3, 3\r\n\r\n", b"GET"
    )
    assert (head.status, head.reason, head.mode, head.length) == (404, b"Not  Found", LENGTH, 3)
    assert head.headers == [(b"A", b"1"), (b"B", b"2"), (b"Content-Length", b"3, 3")]
    assert head.keep_alive
    te = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 9\r\n\r\n"
    assert parse_response_head(te, b"GET").mode == CHUNKED  # TE wins over CL
    assert parse_response_head(te, b"HEAD").mode == NO_BODY
    closing = b"HTTP/1.1 200\r\nConnection: keep-alive, Close\r\nContent-Length: 1\r\n\r\n"
    assert not parse_response_head(closing, b"GET").keep_alive
    assert parse_response_head(b"HTTP/1.0 200 OK\r\n\r\n", b"GET").mode == UNTIL_CLOSE
    for bad in (b"HTTP/1.1 20 OK\r\n\r\n", b"HTTP/1.1 200OK\r\n\r\n", b"\r\n\r\n"):
        with pytest.raises(ParseError):
            parse_response_head(bad, b"GET")


def test_find_head_end() -> None:
    assert find_head_end(bytearray(b"HTTP/1.1 200 OK\r\n\r\nbody"), 0) == 19
    assert find_head_end(bytearray(b"HTTP/1.1 200 OK\n\nbody"), 0) == 17
    assert find_head_end(bytearray(b"HTTP/1.1 200 OK\r\nA: b\r\n"), 0) == -1


def test_build_request_head() -> None:
    head = build_request_head(b"GET", b"/x?y=1", [(b"Connection", b"close")], b"h:1", 0)
    assert head.data == b"GET /x?y=1 HTTP/1.1\r\nHost: h:1\r\nConnection: close\r\n\r\n"
    assert not head.keep_alive and not head.chunked
    head = build_request_head(b"PUT", b"/", [(b"Host", b"h")], b"h:1", None)
    assert head.chunked and head.data.endswith(b"Transfer-Encoding: chunked\r\n\r\n")
    head = build_request_head(b"POST", b"/", [(b"Host", b"h")], b"h:1", 0)
    assert head.data == b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"


# -- basics -------------------------------------------------------------------------------


async def test_get_and_post_json_round_trip(transport: FastAsyncTransport) -> None:
    async with RawServer(echo_handler) as srv, client(transport) as c:
        r = await c.get(srv.url("/a/b?x=1&y=%20z"))
        assert r.status_code == 200
        assert r.http_version == "HTTP/1.1"
        assert r.reason_phrase == "OK"
        assert r.json()["method"] == "GET"
        assert r.json()["path"] == "/a/b?x=1&y=%20z"
        r = await c.post(srv.url("/api/chat"), json={"model": "m", "n": [1, 2]})
        assert r.json()["method"] == "POST"
        assert json.loads(r.json()["body"]) == {"model": "m", "n": [1, 2]}
        assert r.headers["content-type"] == "application/json"
    assert_no_leak(transport)
    assert not our_tasks()


async def test_keep_alive_reuses_one_connection(transport: FastAsyncTransport) -> None:
    async with RawServer(echo_handler) as srv, client(transport) as c:
        for i in range(50):
            r = await c.post(srv.url(), content=b"x" * i)
            assert r.json()["conn"] == 0
        assert srv.accepted == 1
        assert transport.stats() == {"open": 1, "idle": 1, "in_use": 0, "waiters": 0}


async def test_duplicate_headers_preserved(transport: FastAsyncTransport) -> None:
    async def handler(conn: ServerConn) -> None:
        await conn.read_request()
        await conn.respond(b"ok", headers=("Set-Cookie: a=1", "set-cookie: b=2", "X-A: 1"))

    async with RawServer(handler) as srv, client(transport) as c:
        r = await c.get(srv.url())
        assert r.headers.get_list("set-cookie") == ["a=1", "b=2"]
        assert (b"set-cookie", b"b=2") in r.headers.raw  # original case kept


async def test_connection_close_is_not_pooled(transport: FastAsyncTransport) -> None:
    async with RawServer(echo_handler) as srv, client(transport) as c:
        r = await c.get(srv.url(), headers={"Connection": "close"})
        assert r.json()["conn"] == 0
        assert await srv.wait_closed(1)
        r = await c.get(srv.url())
        assert r.json()["conn"] == 1
        assert srv.accepted == 2

        async def closing(conn: ServerConn) -> None:
            while await conn.read_request():
                await conn.respond(b"bye", headers=("Connection: close",))

        async with RawServer(closing) as srv2:
            for _ in range(3):
                assert (await c.get(srv2.url())).content == b"bye"
            assert srv2.accepted == 3
            assert transport.stats()["idle"] == 1  # only the echo server's connection
    assert_no_leak(transport)


@pytest.mark.parametrize(
    ("head", "keep_alive"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", True),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\n", False),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 11\r\nConnection: keep-alive\r\n\r\n", True),
        (b"HTTP/1.1 200 OK\r\n\r\n", False),  # read until close
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip-ish\r\n\r\n", False),  # ditto
    ],
)
async def test_body_framing(transport: FastAsyncTransport, head: bytes, keep_alive: bool) -> None:
    async def handler(conn: ServerConn) -> None:
        while await conn.read_request():
            await conn.send(head + b"hello")
            await asyncio.sleep(0.02)
            await conn.send(b" world")
            if b"Length" not in head:
                return

    async with RawServer(handler) as srv, client(transport) as c:
        for _ in range(2):
            r = await c.get(srv.url())
            assert r.content == b"hello world"
        assert srv.accepted == (1 if keep_alive else 2)
    assert_no_leak(transport)


async def test_chunk_extensions_trailers_and_reuse(transport: FastAsyncTransport) -> None:
    async def handler(conn: ServerConn) -> None:
        while await conn.read_request():
            await conn.send(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5;name=value\r\nhello\r\n1 \r\n \r\n"
                b"5\r\nworld\r\n0;last\r\nX-Trailer: 1\r\nX-Other: 2\r\n\r\n"
            )

    async with RawServer(handler) as srv, client(transport) as c:
        for _ in range(3):
            assert (await c.get(srv.url())).content == b"hello world"
        assert srv.accepted == 1


@pytest.mark.parametrize("status", [204, 304])
async def test_no_body_statuses_and_head(transport: FastAsyncTransport, status: int) -> None:
    async def handler(conn: ServerConn) -> None:
        while req := await conn.read_request():
            if req.method == "HEAD":
                await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            else:  # 1xx interim responses are skipped
                await conn.send(b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n")
                await conn.send(b"HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n" % status)

    async with RawServer(handler) as srv, client(transport) as c:
        r = await c.head(srv.url())
        assert r.status_code == 200 and r.content == b""
        r = await c.get(srv.url())
        assert r.status_code == status and r.content == b""
        r = await c.head(srv.url())
        assert r.headers["content-length"] == "1000"
        assert srv.accepted == 1


async def test_bare_lf_response_head(transport: FastAsyncTransport) -> None:
    async def handler(conn: ServerConn) -> None:
        await conn.read_request()
        await conn.send(b"HTTP/1.1 200 OK\nContent-Length: 2\nX-Folded: a\n b\n\nok")

    async with RawServer(handler) as srv, client(transport) as c:
        r = await c.get(srv.url())
        assert r.content == b"ok"
        assert r.headers["x-folded"] == "a b"


# -- streaming ----------------------------------------------------------------------------


@pytest.mark.parametrize("framing", ["chunked", "length", "close"])
async def test_streaming_is_incremental(transport: FastAsyncTransport, framing: str) -> None:
    """The second piece is only sent after the client saw the first: buffering
    anywhere in the transport would deadlock (and hit the read timeout)."""
    first_seen = asyncio.Event()
    parts = [b"data: one\n\n", b"data: two\n\n"]

    def frame(piece: bytes) -> bytes:
        return b"%x\r\n%b\r\n" % (len(piece), piece) if framing == "chunked" else piece

    async def handler(conn: ServerConn) -> None:
        await conn.read_request()
        head = {
            "chunked": b"Transfer-Encoding: chunked\r\n",
            "length": b"Content-Length: %d\r\n" % sum(map(len, parts)),
            "close": b"",
        }[framing]
        await conn.send(b"HTTP/1.1 200 OK\r\n" + head + b"\r\n" + frame(parts[0]))
        await first_seen.wait()
        await conn.send(frame(parts[1]) + (b"0\r\n\r\n" if framing == "chunked" else b""))

    async with RawServer(handler) as srv, client(transport, read=2.0) as c:
        got = []
        async with c.stream("POST", srv.url("/api/generate"), json={}) as r:
            async for chunk in r.aiter_raw():
                got.append(chunk)
                first_seen.set()
        assert got == parts
    assert_no_leak(transport)


async def test_many_small_chunks(transport: FastAsyncTransport) -> None:
    n = 500

    async def handler(conn: ServerConn) -> None:
        while await conn.read_request():
            conn.writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            for i in range(n):
                line = b'{"i": %d}\n' % i
                conn.writer.write(b"%x\r\n%b\r\n" % (len(line), line))
                if i % 50 == 0:
                    await conn.writer.drain()
            await conn.send(b"0\r\n\r\n")

    async with RawServer(handler) as srv, client(transport) as c:
        for _ in range(2):
            async with c.stream("GET", srv.url()) as r:
                lines = [json.loads(x) async for x in r.aiter_lines()]
            assert [x["i"] for x in lines] == list(range(n))
        assert srv.accepted == 1


async def test_receive_backpressure(transport: FastAsyncTransport) -> None:
    size = 16 * 1024 * 1024

    async def handler(conn: ServerConn) -> None:
        while await conn.read_request():
            await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
            block = b"x" * (1024 * 1024)
            for _ in range(size // len(block)):
                await conn.send(block)

    async with RawServer(handler) as srv, client(transport) as c:
        async with c.stream("GET", srv.url()) as r:
            await asyncio.sleep(0.3)  # consumer stalls; the transport must stop reading
            (conn,) = transport._pool._conns
            assert conn.read_paused
            assert len(conn.buf) < HIGH_WATER + 512 * 1024
            total = 0
            async for chunk in r.aiter_raw():
                total += len(chunk)
                assert len(conn.buf) < HIGH_WATER + 512 * 1024
        assert total == size
        assert LOW_WATER < HIGH_WATER
        assert (await c.get(srv.url())).num_bytes_downloaded == size
        assert srv.accepted == 1


async def test_streaming_request_body(transport: FastAsyncTransport) -> None:
    async def body() -> AsyncIterator[bytes]:
        for i in range(5):
            yield b"part%d," % i
            await asyncio.sleep(0)
        yield b""  # empty pieces must not terminate the chunked body early
        yield b"end"

    async with RawServer(echo_handler) as srv, client(transport) as c:
        r = await c.post(srv.url(), content=body())
        assert r.json()["transfer_encoding"] == "chunked"
        assert r.json()["body"] == "part0,part1,part2,part3,part4,end"
        # Known length: Content-Length framing, streamed as-is.
        r = await c.post(srv.url(), content=body(), headers={"Content-Length": "33"})
        assert r.json()["content_length"] == "33"
        assert r.json()["body"] == "part0,part1,part2,part3,part4,end"
        assert srv.accepted == 1
    assert_no_leak(transport)


# -- connection failures ------------------------------------------------------------------


async def test_stale_pooled_connection_is_retried(transport: FastAsyncTransport) -> None:
    """The server drops its keep-alive connection exactly when the next request
    arrives (the race a pre-reuse EOF check cannot catch): retried transparently."""

    async def handler(conn: ServerConn) -> None:
        while req := await conn.read_request():
            if conn.index == 0 and conn.requests == 2:
                return  # close without answering
            await conn.respond(req.body)

    async with RawServer(handler) as srv, client(transport) as c:
        assert (await c.post(srv.url(), content=b"1")).content == b"1"
        assert (await c.post(srv.url(), content=b"2")).content == b"2"
        assert srv.accepted == 2
    assert_no_leak(transport)


async def test_idle_connection_closed_by_server_is_discarded(
    transport: FastAsyncTransport,
) -> None:
    async def handler(conn: ServerConn) -> None:
        await conn.read_request()
        await conn.respond(b"once")  # keep-alive response, then close anyway

    async with RawServer(handler) as srv, client(transport) as c:
        assert (await c.get(srv.url())).content == b"once"
        assert await srv.wait_closed(1)
        for _ in range(50):  # the EOF reaches the idle connection promptly
            if transport.stats()["open"] == 0:
                break
            await asyncio.sleep(0.01)
        assert transport.stats()["open"] == 0
        assert (await c.get(srv.url())).content == b"once"
        assert srv.accepted == 2


async def test_stale_connection_not_retried_for_streamed_body(
    transport: FastAsyncTransport,
) -> None:
    async def handler(conn: ServerConn) -> None:
        while await conn.read_request():
            if conn.requests == 2:
                return
            await conn.respond(b"ok")

    async def body() -> AsyncIterator[bytes]:
        yield b"once-only"

    async with RawServer(handler) as srv, client(transport) as c:
        await c.get(srv.url())
        with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
            await c.post(srv.url(), content=body())
        assert srv.accepted == 1
    assert_no_leak(transport)


async def test_fresh_connection_without_response_is_an_error(
    transport: FastAsyncTransport,
) -> None:
    async def handler(conn: ServerConn) -> None:
        await conn.read_request()

    async with RawServer(handler) as srv, client(transport) as c:
        with pytest.raises(httpx.RemoteProtocolError) as info:
            await c.get(srv.url())
        assert info.value.request.url == srv.url()
        assert srv.accepted == 1  # no retry on a new connection
    assert_no_leak(transport)


async def test_refused_port_is_connect_error(transport: FastAsyncTransport) -> None:
    async with client(transport) as c:
        start = time.monotonic()
        with pytest.raises(httpx.ConnectError) as info:
            await c.get(f"http://127.0.0.1:{free_port()}/")
        assert time.monotonic() - start < 1.0
        assert info.value.request is not None
    assert_no_leak(transport)


async def test_connect_retries() -> None:
    t = FastAsyncTransport(connect_retries=1)
    async with client(t) as c:
        start = time.monotonic()
        with pytest.raises(httpx.ConnectError):
            await c.get(f"http://127.0.0.1:{free_port()}/")
        assert 0.4 < time.monotonic() - start < 2.0  # one backoff step of 0.5 s
    assert t.stats()["in_use"] == 0


async def test_read_timeout_before_headers(transport: FastAsyncTransport) -> None:
    async def handler(conn: ServerConn) -> None:
        await conn.read_request()
        conn.server.observed_close = await conn.wait_client_close()

    async with RawServer(handler) as srv, client(transport, read=0.3) as c:
        start = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            await c.get(srv.url())
        assert 0.25 < time.monotonic() - start < 1.0
        assert await srv.wait_closed(1)
        assert srv.observed_close
    assert_no_leak(transport)


async def test_read_timeout_mid_body(transport: FastAsyncTransport) -> None:
    async def handler(conn: ServerConn) -> None:
        await conn.read_request()
        await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        await conn.wait_client_close()

    async with RawServer(handler) as srv, client(transport, read=0.3) as c:
        start = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            await c.get(srv.url())
        assert 0.25 < time.monotonic() - start < 1.0
        assert await srv.wait_closed(1)
    assert_no_leak(transport)


async def test_read_timeout_applies_per_wait_not_per_response(
    transport: FastAsyncTransport,
) -> None:
    """A slow but steady stream must not trip a read timeout shorter than the whole
    response (exercises the lazily re-armed timer)."""

    async def handler(conn: ServerConn) -> None:
        await conn.read_request()
        await conn.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(12):
            await asyncio.sleep(0.05)
            await conn.send(b"1\r\nx\r\n")
        await conn.send(b"0\r\n\r\n")

    # 12 x 50 ms > 0.5 s: a per-response deadline would fire, a per-wait one must not.
    async with RawServer(handler) as srv, client(transport, read=0.5) as c:
        assert (await c.get(srv.url())).content == b"x" * 12


async def test_server_drops_mid_chunked_body(transport: FastAsyncTransport) -> None:
    async def handler(conn: ServerConn) -> None:
        await conn.read_request()
        await conn.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")

    async with RawServer(handler) as srv, client(transport) as c:
        with pytest.raises(httpx.RemoteProtocolError, match="peer closed"):
            await c.get(srv.url())
        async with c.stream("GET", srv.url()) as r:
            got = []
            with pytest.raises(httpx.RemoteProtocolError):
                async for chunk in r.aiter_raw():
                    got.append(chunk)
            assert got == [b"hello"]  # data before the drop was delivered
    assert_no_leak(transport)


async def test_connection_reset_is_read_error(transport: FastAsyncTransport) -> None:
    async def handler(conn: ServerConn) -> None:
        await conn.read_request()
        await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc")
        await asyncio.sleep(0.05)
        conn.reset()

    async with RawServer(handler) as srv, client(transport) as c:
        with pytest.raises(httpx.ReadError):
            await c.get(srv.url())
    assert_no_leak(transport)


@pytest.mark.parametrize(
    "response",
    [
        b"HTTP/1.1 2OO OK\r\n\r\n",
        b"HTTP/2 200 OK\r\n\r\n",
        b"ICY 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX : y\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70000 + b"\r\n\r\n",
    ],
)
async def test_malformed_responses(transport: FastAsyncTransport, response: bytes) -> None:
    async def handler(conn: ServerConn) -> None:
        await conn.read_request()
        await conn.send(response)
        await conn.wait_client_close()

    async with RawServer(handler) as srv, client(transport) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            await c.get(srv.url())
        assert await srv.wait_closed(1)  # the broken connection is closed, not pooled
    assert_no_leak(transport)


async def test_header_injection_rejected(transport: FastAsyncTransport) -> None:
    request = httpx.Request("GET", "http://127.0.0.1:1/", headers={"X": "a"})
    request.headers._list[-1] = (b"X", b"x", b"a\r\nEvil: 1")  # bypass httpx's checks
    with pytest.raises(httpx.LocalProtocolError):
        await transport.handle_async_request(request)


# -- cancellation and early close ---------------------------------------------------------


def streaming_server(disconnected: asyncio.Event) -> RawServer:
    async def handler(conn: ServerConn) -> None:
        await conn.read_request()
        await conn.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        if await conn.wait_client_close():
            disconnected.set()

    return RawServer(handler)


async def test_cancel_mid_stream_closes_connection(transport: FastAsyncTransport) -> None:
    disconnected = asyncio.Event()
    got_first = asyncio.Event()
    async with streaming_server(disconnected) as srv, client(transport) as c:

        async def consume() -> None:
            async with c.stream("GET", srv.url()) as r:
                async for _ in r.aiter_raw():
                    got_first.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(got_first.wait(), 2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(disconnected.wait(), 2)
        assert transport.stats() == {"open": 0, "idle": 0, "in_use": 0, "waiters": 0}
        assert not our_tasks()


async def test_cancel_while_waiting_for_headers(transport: FastAsyncTransport) -> None:
    disconnected = asyncio.Event()

    async def handler(conn: ServerConn) -> None:
        await conn.read_request()
        if await conn.wait_client_close():
            disconnected.set()

    async with RawServer(handler) as srv, client(transport) as c:
        task = asyncio.create_task(c.get(srv.url()))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(disconnected.wait(), 2)
        assert transport.stats() == {"open": 0, "idle": 0, "in_use": 0, "waiters": 0}


async def test_early_aclose_of_streaming_response(transport: FastAsyncTransport) -> None:
    disconnected = asyncio.Event()
    async with streaming_server(disconnected) as srv, client(transport) as c:
        async with c.stream("GET", srv.url()) as r:
            async for chunk in r.aiter_raw():
                assert chunk == b"first"
                break  # leave the stream early
        await asyncio.wait_for(disconnected.wait(), 2)
        assert transport.stats() == {"open": 0, "idle": 0, "in_use": 0, "waiters": 0}

        disconnected.clear()
        r = await c.send(c.build_request("GET", srv.url()), stream=True)
        await r.aclose()  # closed before reading anything
        await asyncio.wait_for(disconnected.wait(), 2)
        await r.aclose()  # idempotent
        assert transport.stats() == {"open": 0, "idle": 0, "in_use": 0, "waiters": 0}


async def test_unclosed_streaming_response_is_reclaimed_by_gc(
    transport: FastAsyncTransport,
) -> None:
    disconnected = asyncio.Event()
    async with streaming_server(disconnected) as srv, client(transport) as c:
        r = await c.send(c.build_request("GET", srv.url()), stream=True)
        assert transport.stats()["in_use"] == 1
        del r  # a caller bug: never read nor closed
        import gc

        gc.collect()
        await asyncio.wait_for(disconnected.wait(), 2)
        assert_no_leak(transport)


# -- pool limits --------------------------------------------------------------------------


async def test_concurrency_is_bounded_by_max_connections() -> None:
    t = FastAsyncTransport(max_connections=10)

    async def slowish_echo(conn: ServerConn) -> None:
        while req := await conn.read_request():
            await asyncio.sleep(0)
            await conn.respond(req.body)

    async with RawServer(slowish_echo) as srv, client(t) as c:
        results = await asyncio.gather(*(c.post(srv.url(), content=b"%d" % i) for i in range(1000)))
        assert [r.content for r in results] == [b"%d" % i for i in range(1000)]
        assert srv.max_open <= 10
        assert srv.accepted <= 10
        assert t.stats() == {"open": 10, "idle": 10, "in_use": 0, "waiters": 0}
        assert not our_tasks()
    await t.aclose()
    assert t.stats()["open"] == 0


async def test_pool_timeout_and_cancelled_waiter() -> None:
    t = FastAsyncTransport(max_connections=1)
    disconnected = asyncio.Event()
    async with streaming_server(disconnected) as srv, client(t, pool=0.2) as c:
        held = await c.send(c.build_request("GET", srv.url()), stream=True)
        start = time.monotonic()
        with pytest.raises(httpx.PoolTimeout):
            await c.get(srv.url())
        assert 0.15 < time.monotonic() - start < 1.0

        waiter = asyncio.create_task(c.get(srv.url(), timeout=5.0))
        await asyncio.sleep(0.05)
        assert t.stats()["waiters"] == 1
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert t.stats() == {"open": 1, "idle": 0, "in_use": 1, "waiters": 0}
        await held.aclose()
        assert_no_leak(t)
        assert t.stats()["open"] == 0

        async with RawServer(echo_handler) as srv2:
            assert (await c.get(srv2.url())).status_code == 200  # the slot came back


async def test_waiters_get_connections_of_other_hosts_slots() -> None:
    t = FastAsyncTransport(max_connections=2)
    async with RawServer(echo_handler) as a, RawServer(echo_handler) as b, client(t) as c:
        urls = [a.url(), b.url()] * 50
        results = await asyncio.gather(*(c.get(u) for u in urls))
        assert all(r.status_code == 200 for r in results)
        assert a.max_open + b.max_open <= 3  # never more than 2 at once in total
        assert t.stats()["in_use"] == 0 and t.stats()["open"] <= 2
    await t.aclose()


async def test_keepalive_expiry_and_max_keepalive() -> None:
    t = FastAsyncTransport(keepalive_expiry=0.1)
    async with RawServer(echo_handler) as srv, client(t) as c:
        await c.get(srv.url())
        assert t.stats()["idle"] == 1
        # Expired idle connections are closed by a timer, without further traffic.
        assert await srv.wait_closed(1, timeout=1.0)
        assert t.stats() == {"open": 0, "idle": 0, "in_use": 0, "waiters": 0}
        assert (await c.get(srv.url())).json()["conn"] == 1
    await t.aclose()

    t = FastAsyncTransport(max_keepalive=0)
    async with RawServer(echo_handler) as srv, client(t) as c:
        for i in range(3):
            assert (await c.get(srv.url())).json()["conn"] == i
        assert t.stats() == {"open": 0, "idle": 0, "in_use": 0, "waiters": 0}
    await t.aclose()


async def test_write_timeout() -> None:
    t = FastAsyncTransport()

    async def never_reads(conn: ServerConn) -> None:
        await asyncio.sleep(0.6)  # longer than the client is willing to wait
        await conn.wait_client_close()  # then drain, to observe the disconnect

    async with RawServer(never_reads) as srv, client(t, write=0.3) as c:
        with pytest.raises(httpx.WriteTimeout):
            await c.post(srv.url(), content=b"x" * (64 * 1024 * 1024))
        assert await srv.wait_closed(1)
        assert_no_leak(t)

        # Cancelled while blocked writing: same clean-up.
        task = asyncio.create_task(c.post(srv.url(), content=b"x" * (64 * 1024 * 1024)))
        await asyncio.sleep(0.1)
        assert t.stats()["in_use"] == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await srv.wait_closed(2)
        assert t.stats() == {"open": 0, "idle": 0, "in_use": 0, "waiters": 0}


async def test_aclose_is_idempotent_and_closes_everything() -> None:
    t = FastAsyncTransport()
    disconnected = asyncio.Event()
    async with streaming_server(disconnected) as srv, client(t) as c:
        r = await c.send(c.build_request("GET", srv.url()), stream=True)
        await t.aclose()
        await t.aclose()
        await asyncio.wait_for(disconnected.wait(), 2)
        with pytest.raises(httpx.HTTPError):
            await r.aread()
        with pytest.raises(RuntimeError, match="closed"):
            await t.handle_async_request(httpx.Request("GET", srv.url()))
    assert t.stats()["open"] == 0


# -- TLS ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    made = make_self_signed_cert(tmp_path_factory.mktemp("tls"))
    if made is None:
        pytest.skip("no way to make a test certificate: neither `cryptography` nor `openssl`")
    return made


async def test_https_round_trip(cert: tuple[Path, Path]) -> None:
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(*cert)
    t = FastAsyncTransport(ssl_context=ssl.create_default_context(cafile=str(cert[0])))
    async with RawServer(echo_handler, ssl_context=server_ctx) as srv, client(t) as c:
        for i in range(3):
            r = await c.post(srv.url("/tls"), content=b"secret %d" % i)
            assert r.json() == {
                "method": "POST",
                "path": "/tls",
                "body": f"secret {i}",
                "conn": 0,
                "transfer_encoding": None,
                "content_length": str(len(f"secret {i}")),
            }
    await t.aclose()

    # The default context (certifi roots) must reject the self-signed certificate.
    t = FastAsyncTransport()
    async with RawServer(echo_handler, ssl_context=server_ctx) as srv, client(t) as c:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await c.get(srv.url())
    assert_no_leak(t)
    await t.aclose()


async def test_tls_handshake_stall_is_connect_timeout(transport: FastAsyncTransport) -> None:
    async def silent(conn: ServerConn) -> None:  # accepts TCP, never speaks TLS
        conn.server.observed_close = await conn.wait_client_close()

    async with RawServer(silent) as srv, client(transport, connect=0.3) as c:
        start = time.monotonic()
        with pytest.raises(httpx.ConnectTimeout):
            await c.get(f"https://127.0.0.1:{srv.port}/")
        assert 0.25 < time.monotonic() - start < 1.0
        assert await srv.wait_closed(1)
        assert srv.observed_close
        assert_no_leak(transport)

        # Cancelled mid-handshake: the half-open connection is closed too.
        task = asyncio.create_task(c.get(f"https://127.0.0.1:{srv.port}/", timeout=5.0))
        await asyncio.sleep(0.1)
        assert transport.stats()["in_use"] == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await srv.wait_closed(2)
        assert transport.stats() == {"open": 0, "idle": 0, "in_use": 0, "waiters": 0}


# -- against the project's loopback LLM server (if present) -------------------------------


@pytest.fixture
def loopback_server(request: pytest.FixtureRequest) -> LoopbackServer:
    try:
        srv: LoopbackServer = request.getfixturevalue("loopback")
        return srv
    except pytest.FixtureLookupError:
        pytest.skip("tests/servers loopback server not available")


async def test_ollama_streaming_and_concurrency_via_loopback(
    loopback_server: LoopbackServer,
) -> None:
    srv = loopback_server
    srv.configure(tokens=20, token_delay=0.01)
    t = FastAsyncTransport(max_connections=8)
    body = {"model": "loopback", "messages": [{"role": "user", "content": "hi"}]}
    async with client(t) as c:
        url = srv.url + "/api/chat"
        arrivals: list[float] = []
        text = ""
        async with c.stream("POST", url, json={**body, "stream": True}) as r:
            async for line in r.aiter_lines():
                if line:
                    arrivals.append(time.monotonic())
                    text += json.loads(line)["message"]["content"]
        assert text == " ".join(f"tok{i}" for i in range(20))
        assert arrivals[-1] - arrivals[0] > 0.1  # tokens arrived as produced

        srv.configure(tokens=3, token_delay=0.0)
        replies = await asyncio.gather(
            *(c.post(url, json={**body, "stream": False}) for _ in range(100))
        )
        assert all(r.json()["message"]["content"] == "tok0 tok1 tok2" for r in replies)
        stats = srv.stats(include_requests=False)
        assert stats.max_open_connections <= 8
    assert t.stats()["open"] == 0
