"""Every fault, on the Ollama and the OpenAI-compatible backend, on the sync and the async
path (fixtures `kind` x `mode`; one test body for all four). Each test checks the typed
error (or the correct result), the partial text kept, the time it took, and that no task,
limiter slot or connection leaked (client side and server side).
"""

from __future__ import annotations

import itertools

import pytest

from mellea.backends import ModelOption
from mellea.backends._policy import RetryPolicy
from mellea.core.errors import (
    BackendProtocolError,
    BackendStatusError,
    BackendUnavailableError,
    DeadlineExceededError,
    RateLimitedError,
    ReadTimeoutError,
)
from tests.servers import LoopbackServer, Reply

from ._harness import free_port
from .conftest import MakeHarness

pytestmark = pytest.mark.timeout(60)
TEXT = "a b c d e f"
HINT = {"ollama": "ollama serve", "openai": "base_url"}
STREAMING = pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])


async def test_refused_port(make: MakeHarness) -> None:
    h = make(f"http://127.0.0.1:{free_port()}")
    out = await h.call()
    h.record("refused port", out)
    err = out.expect(BackendUnavailableError)
    assert isinstance(err, ConnectionError) and err.retryable
    assert HINT[h.kind] in str(err) and "gave up after 3 attempts" in str(err)
    assert err.partial_output == "" and out.seconds < 2.0
    await h.assert_no_leaks()


@STREAMING
async def test_stall_before_headers(
    make: MakeHarness, loopback: LoopbackServer, stream: bool
) -> None:
    # The backend's timeout= bounds the wait for the answer, streaming or not.
    loopback.enqueue(Reply(stall_before_headers=10.0))
    h = make(loopback, timeout=0.5)
    out = await h.call(stream=stream)
    h.record(f"stall before headers ({'stream' if stream else 'whole'})", out)
    err = out.expect(ReadTimeoutError)
    assert "0.5 s" in str(err) and "raise timeout=" in str(err)
    assert 0.4 < out.seconds < 3.0
    assert loopback.stats().total_requests == 1  # a read timeout is not retried
    await h.assert_no_leaks()
    assert loopback.stats().requests[0].client_disconnected  # the request was aborted


@STREAMING
async def test_stall_mid_stream(make: MakeHarness, loopback: LoopbackServer, stream: bool) -> None:
    loopback.enqueue(Reply(text=TEXT, stall_after_chunks=(2, 10.0)))
    # Streaming: the per-chunk timeout; a whole body: the backend's read timeout.
    h = make(loopback, timeout=5.0 if stream else 0.4)
    options = {ModelOption.STREAM_TIMEOUT: 0.4} if stream else {}
    out = await h.call(stream=stream, **options)
    h.record(f"stall mid-stream ({'stream' if stream else 'whole'})", out)
    err = out.expect(ReadTimeoutError)
    assert err.partial_output == ("a b " if stream else "")
    assert 0.3 < out.seconds < 3.0
    await h.assert_no_leaks()


@STREAMING
async def test_connection_dropped_mid_stream(
    make: MakeHarness, loopback: LoopbackServer, stream: bool
) -> None:
    loopback.enqueue(Reply(text=TEXT, drop_after_chunks=2))
    h = make(loopback)
    out = await h.call(stream=stream)
    h.record(f"connection dropped ({'stream' if stream else 'whole'})", out)
    err = out.expect(BackendProtocolError)
    assert "dropped the connection" in str(err)
    assert err.partial_output == ("a b " if stream else "")
    assert loopback.stats().total_requests == 1  # an answer had started: never resent
    assert out.seconds < 2.0
    await h.assert_no_leaks()


@STREAMING
async def test_server_process_killed_mid_stream(make: MakeHarness, stream: bool) -> None:
    srv = LoopbackServer().spawn()
    try:
        srv.enqueue(Reply(text=TEXT, kill_after_chunks=2))
        h = make(srv)
        out = await h.call(stream=stream)
        h.record(f"server killed ({'stream' if stream else 'whole'})", out)
        err = out.expect(BackendProtocolError)
        assert err.partial_output == ("a b " if stream else "")
        assert out.seconds < 3.0
        srv._proc.wait(5.0)  # type: ignore[union-attr]
        assert srv.returncode == 3
        await h.assert_no_leaks(server=False)
        for ep in h.http.endpoints:  # the dead connection is not kept in the pool
            assert ep.pool_stats() in (None, {"open": 0, "idle": 0, "in_use": 0, "waiters": 0})
        # The server is gone: the next call is refused, fast and typed.
        again = await h.call()
        again.expect(BackendUnavailableError)
        await h.assert_no_leaks(server=False)
    finally:
        srv.stop()


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_is_honoured_then_success(
    make: MakeHarness, loopback: LoopbackServer, status: int
) -> None:
    loopback.enqueue(Reply(status=status, headers={"Retry-After": "0.3"}, times=2))
    h = make(loopback, retry=RetryPolicy(max_retries=3, backoff_initial=5.0))
    out = await h.call(stream=True)
    h.record(f"{status} Retry-After 0.3 s x2, then ok", out)
    assert out.ok() == "Echo: x"
    assert out.mot is not None and out.mot.generation.attempts == 3
    starts = [r.started for r in loopback.stats().requests]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(gaps) == 2 and all(0.28 < g < 2.0 for g in gaps), gaps  # not backoff_initial
    await h.assert_no_leaks()


@pytest.mark.parametrize("status", [429, 503])
async def test_retries_exhausted_is_a_typed_error_with_status_and_body(
    make: MakeHarness, loopback: LoopbackServer, status: int
) -> None:
    loopback.enqueue(
        Reply(status=status, headers={"Retry-After": "0.1"}, error_body="busy, go away", times=-1)
    )
    h = make(loopback, retry=RetryPolicy(max_retries=2))
    out = await h.call()
    h.record(f"{status} Retry-After 0.1 s forever", out)
    err = out.expect(BackendStatusError)
    assert isinstance(err, RateLimitedError) == (status == 429)
    assert err.status_code == status and "busy, go away" in err.body
    assert err.retry_after == pytest.approx(0.1)
    assert "gave up after 3 attempts" in str(err) and "busy, go away" in str(err)
    assert loopback.stats().total_requests == 3
    assert 0.18 < out.seconds < 2.0
    await h.assert_no_leaks()


async def test_retry_after_is_capped(make: MakeHarness, loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(status=503, headers={"Retry-After": "3600"}))
    h = make(loopback, retry=RetryPolicy(max_retries=1, retry_after_cap=0.2))
    out = await h.call()
    h.record("503 Retry-After 3600 s, cap 0.2 s", out)
    assert out.ok() == "Echo: x" and 0.18 < out.seconds < 2.0
    await h.assert_no_leaks()


async def test_retry_that_would_pass_the_deadline_fails_at_once(
    make: MakeHarness, loopback: LoopbackServer
) -> None:
    loopback.enqueue(Reply(status=429, headers={"Retry-After": "5"}, error_body="later"))
    h = make(loopback)
    out = await h.call(**{ModelOption.TIMEOUT: 1.0})
    h.record("429 Retry-After 5 s, deadline 1 s", out)
    err = out.expect(DeadlineExceededError)
    assert isinstance(err.__cause__, RateLimitedError) and "would start after" in str(err)
    assert out.seconds < 0.5  # failed fast instead of sleeping into the deadline
    await h.assert_no_leaks()


@STREAMING
async def test_malformed_stream_line(
    make: MakeHarness, loopback: LoopbackServer, stream: bool
) -> None:
    loopback.enqueue(Reply(text=TEXT, malformed_after_chunks=1))
    h = make(loopback)
    out = await h.call(stream=stream)
    h.record(f"malformed line ({'stream' if stream else 'whole'})", out)
    err = out.expect(BackendProtocolError)
    if stream:
        assert "malformed stream line" in str(err) and err.partial_output == "a "
    else:
        assert "not JSON" in str(err) and err.partial_output == ""
    await h.assert_no_leaks()


@STREAMING
async def test_slow_trickle_past_the_deadline(
    make: MakeHarness, loopback: LoopbackServer, stream: bool
) -> None:
    # Every chunk arrives well within the read timeout; only the deadline stops it.
    loopback.enqueue(Reply(text=" ".join("w" * 40), token_delay=0.1))
    h = make(loopback, timeout=5.0)
    out = await h.call(stream=stream, **{ModelOption.TIMEOUT: 0.6})
    h.record(f"slow trickle, deadline 0.6 s ({'stream' if stream else 'whole'})", out)
    err = out.expect(DeadlineExceededError)
    assert "0.6 s deadline" in str(err)
    if stream:
        assert err.partial_output.startswith("w w ")
    assert 0.55 < out.seconds < 2.5
    await h.assert_no_leaks()
    assert loopback.stats().requests[0].client_disconnected
