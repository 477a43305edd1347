"""Timeouts per phase (connect, read, write, pool; the per-chunk stream timeout) and the
per-call deadline that spans retries and their backoff sleeps."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from mellea.backends import ModelOption
from mellea.backends._policy import RetryPolicy, Timeout
from mellea.core.errors import (
    BackendStatusError,
    ConnectTimeoutError,
    DeadlineExceededError,
    PoolTimeoutError,
    WriteTimeoutError,
)
from tests.servers import LoopbackServer, Reply

from ._harness import Harness, Kind
from .conftest import MakeHarness

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def blackhole() -> Iterator[str]:
    """A port whose accept queue is full: new connections hang in SYN_SENT (no answer)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(c)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for c in fillers:
            c.close()
        server.close()


@pytest.fixture
def silent_reader() -> Iterator[str]:
    """A server that accepts connections and never reads from them."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


async def test_connect_timeout(make: MakeHarness, blackhole: str) -> None:
    h = make(blackhole, timeout=Timeout(5.0, connect=0.2))
    out = await h.call()
    h.record("connect timeout 0.2 s (x3 attempts)", out)
    err = out.expect(ConnectTimeoutError)
    assert err.retryable and "0.2 s (connect timeout)" in str(err)
    assert "gave up after 3 attempts" in str(err)
    assert 0.55 < out.seconds < 3.0
    await h.assert_no_leaks(server=False)


async def test_write_timeout(make: MakeHarness, silent_reader: str) -> None:
    h = make(silent_reader, timeout=Timeout(5.0, write=0.3))
    out = await h.call("x" * 32_000_000)  # more than the socket buffers hold
    h.record("write timeout 0.3 s (32 MB body)", out)
    err = out.expect(WriteTimeoutError)
    assert "0.3 s" in str(err) and out.seconds < 5.0
    await h.assert_no_leaks(server=False)


async def test_pool_timeout(loopback: LoopbackServer, kind: Kind) -> None:
    loopback.enqueue(Reply(match="slow", ttft=2.0))
    h = Harness(kind, "async", loopback, max_concurrency=1,
                timeout=Timeout(5.0, pool=0.2))  # fmt: skip
    slow = await h.session.ainstruct("slow")
    await asyncio.sleep(0.05)
    queued = await h.session.ainstruct("queued")
    with pytest.raises(PoolTimeoutError, match="pool timeout"):
        await queued.avalue()
    await slow.acancel()
    await h.assert_no_leaks()
    await h.aclose()


async def test_explicit_stream_timeout_beats_the_backend_timeout(
    make: MakeHarness, loopback: LoopbackServer
) -> None:
    loopback.enqueue(Reply(text="a b c", token_delay=0.4))
    h = make(loopback, timeout=0.25)  # alone it would stop this stream after 0.25 s
    out = await h.call(stream=True, **{ModelOption.STREAM_TIMEOUT: 2.0})
    assert out.ok() == "a b c"
    await h.assert_no_leaks()


async def test_deadline_spans_retries_and_backoff(
    make: MakeHarness, loopback: LoopbackServer
) -> None:
    loopback.enqueue(Reply(status=503, headers={"Retry-After": "0.3"}, times=-1))
    h = make(loopback, retry=RetryPolicy(max_retries=10))
    out = await h.call(**{ModelOption.TIMEOUT: 1.0})
    h.record("503 forever, Retry-After 0.3 s, deadline 1 s", out)
    err = out.expect(DeadlineExceededError)
    assert isinstance(err.__cause__, BackendStatusError) and err.__cause__.status_code == 503
    # Attempts at ~0, 0.3, 0.6, 0.9 s; the next would start after the deadline: fail now.
    assert loopback.stats().total_requests == 4
    assert 0.85 < out.seconds < 1.0 + 0.5
    await h.assert_no_leaks()


async def test_non_streaming_call_without_a_deadline_ends_on_the_read_timeout(
    make: MakeHarness, loopback: LoopbackServer
) -> None:
    from mellea.core.errors import ReadTimeoutError

    loopback.enqueue(Reply(ttft=10.0))  # thinks for 10 s before answering
    h = make(loopback, timeout=0.3)
    out = await h.call()
    out.expect(ReadTimeoutError)
    assert out.seconds < 2.0
    await h.assert_no_leaks()
