"""The five programs of the spec page run unchanged and behave as the page says.

They run in-process (runpy) against the loopback Ollama server found through OLLAMA_HOST,
so `start_session()` picks Ollama exactly as it would on a user's machine.
"""

from __future__ import annotations

import io
import logging
import runpy
import sys
import time
from pathlib import Path

import pytest

from tests.servers import LoopbackServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "spec"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "spec" / "examples"


class RecordingStdout(io.StringIO):
    """Keeps every write() separately, so streamed chunks can be counted."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, s: str) -> int:
        self.writes.append(s)
        return super().write(s)


def run_example(name: str, monkeypatch: pytest.MonkeyPatch, srv: LoopbackServer) -> RecordingStdout:
    monkeypatch.setenv("OLLAMA_HOST", srv.host_port)
    out = RecordingStdout()
    monkeypatch.setattr(sys, "stdout", out)
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    return out


def overlapping(srv: LoopbackServer, n: int) -> bool:
    """The last n chat requests were all in flight at the same moment."""
    reqs = srv.stats().for_path("/api/chat")[-n:]
    assert len(reqs) == n
    latest_start = max(r.started for r in reqs)
    earliest_end = min(r.finished for r in reqs if r.finished is not None)
    return latest_start < earliest_end


@pytest.mark.skipif(not SHARED.exists(), reason="shared spec folder not present (clean clone)")
def test_examples_are_verbatim_copies_of_the_spec() -> None:
    for path in sorted(SHARED.glob("*.py")):
        assert (EXAMPLES / path.name).read_text() == path.read_text(), path.name


def test_01_ainstruct_prints_the_answer(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer
) -> None:
    out = run_example("01_ainstruct.py", monkeypatch, loopback)
    assert out.getvalue() == "Echo: Write a haiku about concurrency.\n"


def test_02_parallel_generation_runs_concurrently(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer
) -> None:
    loopback.configure(ttft=0.5)
    t0 = time.perf_counter()
    out = run_example("02_parallel_generation.py", monkeypatch, loopback)
    elapsed = time.perf_counter() - t0
    lines = out.getvalue().splitlines()
    assert lines[0] == "False"  # "None are resolved yet"
    assert lines[1:] == [
        f"Echo: Write a poem about {t}." for t in ("mountains", "rivers", "forests")
    ]
    assert loopback.stats().max_in_flight == 3
    assert overlapping(loopback, 3)
    assert elapsed < 1.2, f"three 0.5 s requests took {elapsed:.2f} s: not concurrent"


def test_03_wait_for_all_mots_runs_concurrently(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer
) -> None:
    loopback.configure(ttft=0.5)
    t0 = time.perf_counter()
    out = run_example("03_wait_for_all_mots.py", monkeypatch, loopback)
    elapsed = time.perf_counter() - t0
    assert out.getvalue().splitlines() == [
        f"Echo: Write a short poem about {t}." for t in ("mountains", "rivers", "forests")
    ]
    assert loopback.stats().max_in_flight == 3
    assert overlapping(loopback, 3)
    assert elapsed < 1.2


def test_04_streaming_prints_chunks_that_join_to_the_value(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer
) -> None:
    loopback.configure(token_delay=0.02)
    out = run_example("04_streaming.py", monkeypatch, loopback)
    expected = "Echo: Write a short story about a robot learning to cook."
    assert out.getvalue() == expected + "\n"
    chunks = [w for w in out.writes if w and w != "\n"]
    assert len(chunks) >= 5, chunks  # really streamed, not one final blob
    assert "".join(chunks) == expected
    (req,) = loopback.stats().for_path("/api/chat")
    assert req.body["stream"] is True


def test_05_chat_context_sends_the_first_turn(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="mellea")
    out = run_example("05_chat_context_sequential.py", monkeypatch, loopback)
    assert out.getvalue() == "Echo: Tell me more.\n"
    first, second = loopback.stats().for_path("/api/chat")
    assert first.body["messages"] == [{"role": "user", "content": "Hello."}]
    assert second.body["messages"] == [
        {"role": "user", "content": "Hello."},
        {"role": "assistant", "content": "Echo: Hello."},
        {"role": "user", "content": "Tell me more."},
    ]
    # Awaited one after the other: nothing overlapped, so no stale-context warning.
    assert "stale contexts" not in caplog.text
