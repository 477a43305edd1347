"""Regression tests for the request-framing and parsing defects of the hand-written
HTTP/1.1 client this layer replaced (issue 17, "Why" 1-3). A raw-socket server records
the exact bytes each request arrived as, and scripts the exact bytes of each answer;
after every hostile header or response, the next request on the backend's pool must
get its own answer.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import Any

import pytest

from mellea.backends._http import HttpEndpoint
from mellea.backends._policy import RetryPolicy
from mellea.backends.openai import OpenAIBackend
from mellea.core.errors import BackendProtocolError, InvalidOptionError
from mellea.helpers.portal import run_sync
from mellea.stdlib.session import MelleaSession

from ._raw import RawServer, answer

pytestmark = pytest.mark.timeout(60)
NO_RETRY = RetryPolicy(max_retries=0)


@pytest.fixture
def raw() -> Iterator[RawServer]:
    srv = RawServer()
    try:
        yield srv
    finally:
        srv.close()


def session(srv: RawServer, **kw: Any) -> MelleaSession:
    kw.setdefault("retry", NO_RETRY)
    return MelleaSession(OpenAIBackend("m", base_url=f"{srv.url}/v1", **kw))


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            return int(value)
    raise AssertionError(f"no Content-Length in {head!r}")


# ----- Why 1 and 2: what callers may put into a request -------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Length": "5"},  # shorter than the body: the rest would be a 2nd request
        {"Transfer-Encoding": "chunked"},  # the body would go out unframed
        {"Host": "elsewhere.example"},
        {"Connection": "close"},
        {"content-length": "5"},
        {"X-Evil": "a\r\nContent-Length: 5"},  # header injection
        {"X-Nul": "a\x00b"},
        {"X-Bare-CR": "a\rb"},
        {"X Space": "v"},
        {"X-Colon:": "v"},
        {"X\x00Nul": "v"},
        {"": "v"},
    ],
)
def test_hostile_default_headers_are_refused_before_anything_is_sent(
    raw: RawServer, headers: dict[str, str]
) -> None:
    with pytest.raises(InvalidOptionError, match="header"):
        session(raw, default_headers=headers)
    assert raw.requests == [] and raw.connections == 0


@pytest.mark.parametrize(
    "headers", [{"Content-Length": "5"}, {"Transfer-Encoding": "chunked"}, {"X-A": "1\r\n2"}]
)
async def test_hostile_per_call_headers_leave_the_pool_clean(
    raw: RawServer, headers: dict[str, str]
) -> None:
    ep = HttpEndpoint(f"{raw.url}/v1", service="test")

    async def post(extra: dict[str, str] | None) -> Any:
        async with ep.open("/chat/completions", b'{"n": 1}', headers=extra) as response:
            return await ep.read_json(response)

    try:
        first = await post_on_portal(post, None)
        with pytest.raises(InvalidOptionError, match="header"):
            await post_on_portal(post, headers)
        second = await post_on_portal(post, {"X-Ok": "yes"})
    finally:
        await ep.aclose()
    assert _text(first) == "answer 1" and _text(second) == "answer 2"
    assert len(raw.requests) == 2  # the hostile request never reached the wire
    assert {r.connection for r in raw.requests} == {1}  # one pooled connection, in sync
    for r in raw.requests:
        assert _content_length(r.head) == len(r.body) == len(b'{"n": 1}')
    assert b"x-ok: yes" in raw.requests[1].head.lower()


def test_request_bytes_are_framed_by_the_client(raw: RawServer) -> None:
    m = session(raw, api_key="sk-test", default_headers={"X-Team": "a b\tc"})
    assert m.instruct("hello").value == "answer 1"
    assert m.instruct("again").value == "answer 2"
    m.close()
    first, second = raw.requests
    head = first.head.decode("latin-1")
    assert head.startswith("POST /v1/chat/completions HTTP/1.1\r\n")
    assert _content_length(first.head) == len(first.body)
    assert "transfer-encoding" not in head.lower()
    assert "authorization: bearer sk-test" in head.lower() and "x-team: a b\tc" in head.lower()
    assert second.connection == first.connection  # keep-alive, and still in sync


def test_an_api_key_with_a_stray_newline_is_refused(raw: RawServer) -> None:
    with pytest.raises(InvalidOptionError, match="control character"):
        session(raw, api_key="sk-test\n")


# ----- Why 3: what the server answers -------------------------------------------------


def _chunked(body: bytes) -> bytes:
    return b"%x\r\n%b\r\n0\r\n\r\n" % (len(body), body)


def _json_body(text: str) -> bytes:
    _head, _, body = answer(text).partition(b"\r\n\r\n")
    return body


HOSTILE: dict[str, bytes] = {
    # RFC 9112 obsoletes folding: it must never frame the body other than the headers say.
    "folded Content-Length": (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length:\r\n "
        + str(len(_json_body("folded"))).encode()
        + b"\r\n\r\n"
        + _json_body("folded")
    ),
    "folded Transfer-Encoding": (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding:\r\n chunked"
        b"\r\n\r\n" + _chunked(_json_body("folded"))
    ),
    "gzip transfer coding": (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: gzip, chunked\r\n\r\n" + _chunked(gzip.compress(_json_body("gz")))
    ),
    "NUL in a header value": (b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 2\r\n\r\n{}"),
    "bare CR in a header value": (b"HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 2\r\n\r\n{}"),
    "space in a header name": b"HTTP/1.1 200 OK\r\nX A: b\r\nContent-Length: 2\r\n\r\n{}",
    "bare-LF chunk lines": (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked"
        b"\r\n\r\n2\n{}\n0\n\n"
    ),
    "unbounded trailers": (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked"
        b"\r\n\r\n2\r\n{}\r\n0\r\n"
        + b"".join(b"X-T%d: %s\r\n" % (i, b"v" * 100) for i in range(5000))
        + b"\r\n"
    ),
    "Content-Length and Transfer-Encoding": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        + _chunked(b"{}")
    ),
    "two Content-Lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 30\r\n\r\n{}",
}
# A parse that agrees with itself is acceptable for these (aiohttp unfolds, then frames
# by what it unfolded); every other one must be refused with a typed error.
CONSISTENT = {"folded Content-Length": "folded", "folded Transfer-Encoding": "folded"}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_responses_are_refused_or_framed_as_their_headers_say(
    raw: RawServer, name: str
) -> None:
    # A smuggled second response right behind the hostile one: if the body were framed
    # differently from what the headers say, the next call would read it as its answer.
    raw.script = [HOSTILE[name] + answer("SMUGGLED")]
    m = session(raw)
    if name in CONSISTENT:
        assert m.instruct("x").value == CONSISTENT[name]
    else:
        with pytest.raises(BackendProtocolError) as info:
            m.instruct("x")
        assert "malformed" in str(info.value) or "Transfer-Encoding" in str(info.value)
    assert m.instruct("y").value == "answer 2"  # its own answer, never the smuggled one
    m.close()


# ----- helpers ---------------------------------------------------------------------------


def _text(data: Any) -> str:
    return str(data["choices"][0]["message"]["content"])


async def post_on_portal(fn: Any, *args: Any) -> Any:
    """Run `fn(*args)` on mellea's I/O loop (where the HTTP layer lives)."""
    import asyncio

    from mellea.helpers.portal import get_portal

    future = asyncio.run_coroutine_threadsafe(fn(*args), get_portal().loop)
    return await asyncio.wrap_future(future)


__all__ = ["post_on_portal", "run_sync"]
