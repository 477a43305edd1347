"""No duplicate generations (issue 17, "Why" 4): a request the server may have read is
never sent again — not by aiohttp, not by the retry layer — while one that cannot have
reached a model (refused, or the connection closed before it was written) is retried as
the policy says. The raw server counts how often it saw the request.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from mellea.backends import ModelOption
from mellea.backends._policy import RetryPolicy
from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.openai import OpenAIBackend
from mellea.core.errors import BackendProtocolError, BackendStatusError
from mellea.stdlib.session import MelleaSession

from ._raw import DROP, RawServer, answer

pytestmark = pytest.mark.timeout(60)
POLICY = RetryPolicy(max_retries=3, backoff_initial=0.01, backoff_max=0.02)


@pytest.fixture
def raw() -> Iterator[RawServer]:
    srv = RawServer()
    try:
        yield srv
    finally:
        srv.close()


def _session(kind: str, url: str) -> MelleaSession:
    if kind == "ollama":
        return MelleaSession(OllamaModelBackend("m", base_url=url, retry=POLICY))
    return MelleaSession(OpenAIBackend("m", base_url=f"{url}/v1", retry=POLICY))


def _chat_path(kind: str) -> bytes:
    return b"/api/chat" if kind == "ollama" else b"/v1/chat/completions"


@pytest.mark.parametrize("kind", ["ollama", "openai"])
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("pooled", [False, True], ids=["fresh", "pooled"])
def test_a_server_that_reads_the_request_and_drops_sees_it_once(
    raw: RawServer, kind: str, stream: bool, pooled: bool
) -> None:
    m = _session(kind, raw.url)
    if pooled:  # first a good call, so the dropped one goes out on a reused connection
        raw.script = [_ok(kind)]
        m.instruct("warm up")
    raw.script = [DROP] * 5
    with pytest.raises(BackendProtocolError, match="not retried"):
        m.instruct("generate once", model_options={ModelOption.STREAM: stream})
    seen = [r for r in raw.requests if b"generate once" in r.body]
    assert len(seen) == 1  # the policy allows 3 retries; none was safe
    assert all(r.head.split(b" ")[1] == _chat_path(kind) for r in raw.requests)
    raw.script = []
    assert m.instruct("next").value  # the backend is fine afterwards
    m.close()


def test_status_retries_are_counted_by_the_policy(raw: RawServer) -> None:
    busy = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: 4\r\n\r\nbusy"
    raw.script = [busy] * 10
    m = _session("openai", raw.url)
    with pytest.raises(BackendStatusError, match="gave up after 4 attempts"):
        m.instruct("x")
    assert len(raw.requests) == 4  # 1 + max_retries: the server said "try again"
    m.close()


def test_a_connection_closed_before_the_request_was_written_is_retried() -> None:
    # A server that resets the first connection while the (large) request is still being
    # written: the server cannot have read it whole, so nothing can have been generated
    # and the request is retried (the next connection is answered).
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    seen: list[bytes] = []

    def serve() -> None:
        first = True
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                if first:  # never read; reset while the client is still writing
                    first = False
                    time.sleep(0.2)
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00" * 2)
                    continue
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                seen.append(data)
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                while len(body) < length:
                    body += conn.recv(65536)
                conn.sendall(answer("after the retry", close=True))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    m = _session("openai", f"http://127.0.0.1:{port}")
    try:
        mot = m.instruct("x" * 8_000_000)  # far more than the socket buffers hold
        assert mot.value == "after the retry" and len(seen) == 1
        assert mot.generation.attempts == 2
    finally:
        m.close()
        listener.close()


def _ok(kind: str) -> bytes:
    if kind == "openai":
        return answer("warm")
    body = b'{"model":"m","message":{"role":"assistant","content":"warm"},"done":true}'
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%b" % (len(body), body)
