"""The same faults through LiteLLM (its own HTTP stack; our retry rules and error types):
each maps onto mellea's errors, on the sync and the async path."""

from __future__ import annotations

import os

import pytest

from mellea.backends import ModelOption
from mellea.core.errors import (
    BackendError,
    BackendProtocolError,
    BackendUnavailableError,
    DeadlineExceededError,
    RateLimitedError,
    ReadTimeoutError,
)
from tests.servers import LoopbackServer, Reply

from ._harness import Harness, Mode, free_port

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no download at import
pytest.importorskip("litellm")
pytestmark = pytest.mark.timeout(60)
TEXT = "a b c d e f"
S = {ModelOption.STREAM: True}

FAULTS: list[tuple[str, Reply | None, dict[str, object], type[BackendError], str]] = [
    ("refused port", None, {}, BackendUnavailableError, ""),
    ("stall before headers", Reply(stall_before_headers=10.0), {}, ReadTimeoutError, ""),
    ("stall mid-stream", Reply(text=TEXT, stall_after_chunks=(2, 10.0)),
     {**S, ModelOption.STREAM_TIMEOUT: 0.3}, ReadTimeoutError, "a b "),
    ("connection dropped (stream)", Reply(text=TEXT, drop_after_chunks=2), S,
     BackendProtocolError, "a b "),
    ("connection dropped (whole)", Reply(text=TEXT, drop_after_chunks=2), {},
     BackendProtocolError, ""),
    ("malformed line", Reply(text=TEXT, malformed_after_chunks=1), S,
     BackendProtocolError, "a "),
    ("429 forever", Reply(status=429, headers={"Retry-After": "0.05"}, times=-1), {},
     RateLimitedError, ""),
    ("slow trickle past the deadline", Reply(text=" ".join("w" * 40), token_delay=0.1),
     {**S, ModelOption.TIMEOUT: 0.5}, DeadlineExceededError, "w w "),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fault", "reply", "options", "error", "partial"), FAULTS, ids=[f[0] for f in FAULTS]
)
async def test_litellm_faults_are_typed(
    loopback: LoopbackServer,
    mode: Mode,
    fault: str,
    reply: Reply | None,
    options: dict[str, object],
    error: type[BackendError],
    partial: str,
) -> None:
    server: LoopbackServer | str = loopback if reply else f"http://127.0.0.1:{free_port()}"
    if reply is not None:
        loopback.enqueue(reply)
    h = Harness("litellm", mode, server, timeout=0.5)
    out = await h.call(**options)
    h.record(fault, out)
    err = out.expect(error)
    assert err.partial_output.startswith(partial) and (partial or not err.partial_output)
    assert out.seconds < 3.0
    await h.assert_no_leaks()
    await h.aclose()


async def test_litellm_retry_after_then_success(loopback: LoopbackServer, mode: Mode) -> None:
    loopback.enqueue(Reply(status=503, headers={"Retry-After": "0.2"}, times=2))
    h = Harness("litellm", mode, loopback)
    out = await h.call()
    h.record("503 Retry-After 0.2 s x2, then ok", out)
    assert out.ok() == "Echo: x" and out.seconds > 0.38
    assert out.mot is not None and out.mot.generation.attempts == 3
    await h.assert_no_leaks()
    await h.aclose()
