"""The five spec programs, unchanged, against the OpenAI-compatible backend.

`mellea.start_session()` (no arguments, as the programs call it) is pointed at the
loopback server's `/v1` endpoint with `MELLEA_BACKEND=openai` + `OPENAI_BASE_URL`.
"""

from __future__ import annotations

import logging
import runpy
import sys
import time

import pytest

from tests.servers import LoopbackServer
from tests.spec.test_spec_examples import EXAMPLES, RecordingStdout

PATH = "/v1/chat/completions"


def run_example(name: str, monkeypatch: pytest.MonkeyPatch, srv: LoopbackServer) -> RecordingStdout:
    monkeypatch.setenv("MELLEA_BACKEND", "openai")
    monkeypatch.setenv("OPENAI_BASE_URL", srv.openai_base_url)
    out = RecordingStdout()
    monkeypatch.setattr(sys, "stdout", out)
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    return out


def all_overlapped(srv: LoopbackServer, n: int) -> bool:
    reqs = srv.stats().for_path(PATH)[-n:]
    assert len(reqs) == n
    return max(r.started for r in reqs) < min(r.finished or 0.0 for r in reqs)


def test_01(monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer) -> None:
    out = run_example("01_ainstruct.py", monkeypatch, loopback)
    assert out.getvalue() == "Echo: Write a haiku about concurrency.\n"
    (req,) = loopback.stats().for_path(PATH)
    assert req.body["model"] == "gpt-4o"  # the backend's default model name


@pytest.mark.parametrize("name", ["02_parallel_generation.py", "03_wait_for_all_mots.py"])
def test_02_03_run_concurrently(
    name: str, monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer
) -> None:
    loopback.configure(ttft=0.5)
    t0 = time.perf_counter()
    lines = run_example(name, monkeypatch, loopback).getvalue().splitlines()
    elapsed = time.perf_counter() - t0
    if name.startswith("02"):
        assert lines.pop(0) == "False"
        expected = [f"Echo: Write a poem about {t}." for t in ("mountains", "rivers", "forests")]
    else:
        expected = [
            f"Echo: Write a short poem about {t}." for t in ("mountains", "rivers", "forests")
        ]
    assert lines == expected
    assert loopback.stats().max_in_flight == 3 and all_overlapped(loopback, 3)
    assert elapsed < 1.2, f"three 0.5 s requests took {elapsed:.2f} s: not concurrent"


def test_04_streams(monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer) -> None:
    loopback.configure(token_delay=0.02)
    out = run_example("04_streaming.py", monkeypatch, loopback)
    expected = "Echo: Write a short story about a robot learning to cook."
    assert out.getvalue() == expected + "\n"
    chunks = [w for w in out.writes if w and w != "\n"]
    assert len(chunks) >= 5 and "".join(chunks) == expected
    (req,) = loopback.stats().for_path(PATH)
    assert req.body["stream"] is True


def test_05_chat_context(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="mellea")
    out = run_example("05_chat_context_sequential.py", monkeypatch, loopback)
    assert out.getvalue() == "Echo: Tell me more.\n"
    _, second = loopback.stats().for_path(PATH)
    assert second.body["messages"] == [
        {"role": "user", "content": "Hello."},
        {"role": "assistant", "content": "Echo: Hello."},
        {"role": "user", "content": "Tell me more."},
    ]
    assert "stale contexts" not in caplog.text
