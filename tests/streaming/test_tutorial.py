"""The streaming-validation tutorial's five programs run unchanged and do what it says.

The programs (`examples/streaming/`) are the page's code blocks verbatim. They run
in-process (runpy): against the loopback Ollama server (found through OLLAMA_HOST, as
`start_session()` finds a user's Ollama) with scripted replies, and on the embedded
model (no OLLAMA_HOST: `start_session()` falls back to it).
"""

from __future__ import annotations

import ast
import io
import re
import runpy
import sys
from pathlib import Path
from typing import Any

import pytest

from mellea.plugins import unregister
from tests.servers import LoopbackServer, Reply

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ROOT / "examples" / "streaming"
PAGE = next(
    (
        p / "shared" / "spec" / "docs" / "tutorials_06-streaming-validation.md"
        for p in (ROOT.parent, ROOT.parent.parent)  # a clone, or a worktree in wt/
        if (p / "shared").is_dir()
    ),
    ROOT / "missing",
)
STEPS = [
    "step1_first_stream.py",
    "step2_early_exit.py",
    "step3_word_chunking.py",
    "step4_events.py",
    "step5_custom_chunking.py",
]


def run_program(name: str, monkeypatch: pytest.MonkeyPatch) -> str:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    namespace: dict[str, Any] = {}
    try:
        namespace = runpy.run_path(str(PROGRAMS / name), run_name="__main__")
    finally:
        if "print_events" in namespace:  # step 4 registers a global hook
            unregister(namespace["print_events"])
    return out.getvalue()


def on_loopback(monkeypatch: pytest.MonkeyPatch, srv: LoopbackServer, *replies: Reply) -> None:
    monkeypatch.setenv("OLLAMA_HOST", srv.host_port)
    srv.enqueue(*replies)


@pytest.mark.skipif(not PAGE.exists(), reason="shared spec folder not present")
def test_programs_are_the_pages_code_blocks_verbatim() -> None:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)
    assert [(PROGRAMS / n).read_text() for n in STEPS] == blocks
    how_to = PAGE.with_name("how-to_use-async-and-streaming.md").read_text()
    program = (PROGRAMS / "howto_per_chunk_validation.py").read_text()
    assert program in re.findall(r"```python\n(.*?)```", how_to, re.S)


def test_step1_delivers_validated_sentences(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer
) -> None:
    text = "Plants turn light into sugar. This happens in chloroplasts."
    on_loopback(monkeypatch, loopback, Reply(text=text))
    out = run_program("step1_first_stream.py", monkeypatch)
    assert out == (
        "  chunk: 'Plants turn light into sugar.'\n"
        "  chunk: 'This happens in chloroplasts.'\n\n"
        "Completed normally: True\n"
        f"Full text: {text!r}\n"
    )


def test_step2_cancels_the_request_at_the_third_sentence(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer
) -> None:
    sentences = [f"Sentence number {i} is here." for i in range(1, 11)]
    loopback.configure(token_delay=0.02)
    on_loopback(monkeypatch, loopback, Reply(text=" ".join(sentences)))
    out = run_program("step2_early_exit.py", monkeypatch)
    lines = out.splitlines()
    assert lines[:2] == [f"  chunk: {s[:60]!r}..." for s in sentences[:2]]
    assert "Streaming failure: Exceeded 2-sentence limit" in lines
    at_cancel = lines[lines.index("Text at cancellation:") + 1]
    # The third sentence ended the stream: its text is kept, the rest never came.
    assert ast.literal_eval(at_cancel).startswith(" ".join(sentences[:3]))
    assert "Sentence number 5" not in at_cancel
    chat = loopback.wait_idle().for_path("/api/chat")[-1]
    assert chat.client_disconnected


def test_step3_word_chunks_and_a_forbidden_word(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer
) -> None:
    clean = " ".join(f"w{i}" for i in range(12))
    on_loopback(monkeypatch, loopback, Reply(text=clean))
    out = run_program("step3_word_chunking.py", monkeypatch)
    words = ["  word   1: 'w0'", "  word   6: 'w5'", "  word  11: 'w10'"]
    assert out.splitlines() == [*words, "12 word chunks total"]
    on_loopback(monkeypatch, loopback, Reply(text="Fast and legacy free, obsolete never."))
    out = run_program("step3_word_chunking.py", monkeypatch)
    assert out.splitlines()[-1] == "Failure: Forbidden word: 'legacy'"


def test_step4_prints_the_event_lifecycle_through_the_hook(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer
) -> None:
    text = "Water evaporates. Rain falls back down."
    on_loopback(monkeypatch, loopback, Reply(text=text))
    out = run_program("step4_events.py", monkeypatch)
    assert out.splitlines() == [
        "  chunk[0]: 'Water evaporates.'",
        "  chunk[1]: 'Rain falls back down.'",
        f"  stream done — {len(text)} chars",
        "  final validation: pass",
        "  completed — success=True",
    ]
    on_loopback(monkeypatch, loopback, Reply(text="A. B. C. D. E. F."))
    out = run_program("step4_events.py", monkeypatch)
    assert out.splitlines()[-2:] == [
        "  FAIL at chunk 3: Exceeded 3-sentence limit",
        "  completed — success=False",
    ]


def test_step5_custom_line_chunking(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer
) -> None:
    listing = "1. London\n2. Paris\n3. Tokyo\n4. Ottawa\n5. Canberra"
    on_loopback(monkeypatch, loopback, Reply(text=listing))
    out = run_program("step5_custom_chunking.py", monkeypatch)
    lines = [f"  line: {line!r}" for line in listing.split("\n")]
    assert out.splitlines() == [*lines, "Completed normally"]
    on_loopback(monkeypatch, loopback, Reply(text="1. London\nParis\n3. Tokyo"))
    out = run_program("step5_custom_chunking.py", monkeypatch)
    assert out.splitlines() == [
        "  line: '1. London'",
        "FAIL: Line does not start with a number: 'Paris'",
    ]


@pytest.mark.model
@pytest.mark.parametrize("name", STEPS)
def test_programs_on_the_embedded_model(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """No Ollama: `start_session()` uses the embedded model; each program completes."""
    out = run_program(name, monkeypatch)
    assert out.strip()
    last = out.strip().splitlines()[-1]
    expected = {
        "step1_first_stream.py": r"Full text: '.+",
        "step2_early_exit.py": r"(Full text: |[\'\"])",
        "step3_word_chunking.py": r"(\d+ word chunks total|Failure: Forbidden word: .+)",
        "step4_events.py": r"  completed — success=(True|False)",
        "step5_custom_chunking.py": r"(Completed normally|FAIL: Line does not start .+)",
    }[name]
    assert re.match(expected, last), out


def test_how_to_page_program(monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer) -> None:
    """The how-to page's per-chunk validation program (a limit of 3 sentences)."""
    on_loopback(monkeypatch, loopback, Reply(text="One fact. Two facts."))
    out = run_program("howto_per_chunk_validation.py", monkeypatch)
    assert out.splitlines() == ["One fact.", "Two facts.", "Completed normally: True"]
    on_loopback(monkeypatch, loopback, Reply(text="A. B. C. D. E."))
    out = run_program("howto_per_chunk_validation.py", monkeypatch)
    assert out.splitlines() == [
        "A.",
        "B.",
        "C.",
        "Completed normally: False",
        "Streaming failure: Too many sentences",
    ]
