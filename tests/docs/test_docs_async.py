"""Docs pages on async and streaming: "Async and Streaming", tutorial 02, and the metrics
page's token and latency examples — each example unchanged, on the loopback server."""

from __future__ import annotations

import re
import time

from tests.docs._harness import chat_bodies
from tests.docs.conftest import Runner
from tests.servers import LoopbackServer, Reply

FEEDBACK = (
    "The onboarding was confusing and took far too long. Support was helpful once I got through."
)
SUMMARISE = f"Summarise this customer feedback in one sentence: {FEEDBACK}"


def overlapped(srv: LoopbackServer, n: int) -> bool:
    reqs = srv.stats().for_path("/api/chat")[-n:]
    return max(r.started for r in reqs) < min(r.finished or 0 for r in reqs)


def test_ainstruct_and_concurrent_thunks(run: Runner, loopback: LoopbackServer) -> None:
    assert run("how-to_use-async-and-streaming/01").out == (
        "Echo: Write a haiku about concurrency.\n"
    )
    loopback.configure(ttft=0.3)
    t0 = time.perf_counter()
    out = run("how-to_use-async-and-streaming/02").out
    assert out.splitlines() == [
        "False",
        *(f"Echo: Write a poem about {t}." for t in ("mountains", "rivers", "forests")),
    ]
    assert overlapped(loopback, 3) and time.perf_counter() - t0 < 0.85
    out = run("how-to_use-async-and-streaming/03").out
    assert out.splitlines() == [
        f"Echo: Write a short poem about {t}." for t in ("mountains", "rivers", "forests")
    ]
    assert overlapped(loopback, 3)


def test_streaming_chunks_join_to_the_answer(run: Runner, loopback: LoopbackServer) -> None:
    loopback.configure(token_delay=0.01)
    story = "Echo: Write a short story about a robot learning to cook.\n"
    assert run("how-to_use-async-and-streaming/04").out == story
    assert run("how-to_use-async-and-streaming/05").out == story
    assert all(body["stream"] for body in chat_bodies(loopback))


def test_sequential_chat_is_safe(run: Runner, loopback: LoopbackServer) -> None:
    assert run("how-to_use-async-and-streaming/07").out == "Echo: Tell me more.\n"
    assert run("tutorials_02-streaming-and-async/06").out == "Echo: Tell me more.\n"
    assert [m["content"] for m in chat_bodies(loopback)[-1]["messages"]] == [
        "Hello.", "Echo: Hello.", "Tell me more.",
    ]  # fmt: skip


def test_tutorial_02_stream_and_batch(run: Runner, loopback: LoopbackServer) -> None:
    assert run("tutorials_02-streaming-and-async/01").out == f"Echo: {SUMMARISE}\n"
    loopback.configure(token_delay=0.005)
    assert run("tutorials_02-streaming-and-async/02").out == f"Echo: {SUMMARISE}\n"
    assert run("tutorials_02-streaming-and-async/03").out == f"Echo: {SUMMARISE}\n"
    loopback.configure(token_delay=0.0, ttft=0.3)
    ran = run("tutorials_02-streaming-and-async/04")
    assert len(ran.out.splitlines()) == 4 and ran.out.startswith(f"Echo: {SUMMARISE}\n")
    assert overlapped(loopback, 4)


def test_tutorial_02_dependent_calls(run: Runner, loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text="Slow onboarding, helpful support.", match="Summarise this"))
    loopback.enqueue(Reply(text='{"urgency": "low"}', match="Extract JSON"))
    loopback.enqueue(Reply(text='{"result": "mixed"}', match="classify_sentiment"))
    assert run("tutorials_02-streaming-and-async/05").out == (
        "Summary:   Slow onboarding, helpful support.\n"
        "Sentiment: mixed\n"
        'Issues:    {"urgency": "low"}\n'
    )
    assert (
        "Slow onboarding, helpful support." in chat_bodies(loopback)[-1]["messages"][-1]["content"]
    )


def test_usage_and_time_to_first_token(run: Runner, loopback: LoopbackServer) -> None:
    loopback.configure(ttft=0.05)
    out = run("observability_metrics/02").out
    assert re.fullmatch(r"Time to first token: \d+\.\d ms\n", out)
    assert float(out.split(": ")[1].split()[0]) >= 45  # the server's 50 ms, measured
    lines = run("observability_metrics/08").out.splitlines()
    assert lines[:4] == [
        "Prompt tokens: 5", "Completion tokens: 6", "Total tokens: 11", "Streaming: True",
    ]  # fmt: skip
    assert lines[4].startswith("Time to first token: ")
