"""Concurrency: a sync `serve()` never blocks the event loop (bounded worker threads), and
256 concurrent streaming `openai.AsyncOpenAI` clients all get their own, complete answer.
(`bench/serve_bench.py` measures the same load's latency; here only correctness.)"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.servers import LoopbackServer

from .test_openai_sdk import echo_program


class Gauge:
    def __init__(self, full: int = 8) -> None:
        self.lock = threading.Lock()
        self.now = self.peak = 0
        self.full = full
        self.all_busy = threading.Event()

    def __enter__(self) -> None:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            if self.now >= self.full:
                self.all_busy.set()

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.now -= 1


def sleepy_program(gauge: Gauge, seconds: float) -> Callable[..., str]:
    def serve(input: Any, requirements: Any, model_options: Any) -> str:
        with gauge:
            time.sleep(seconds)  # a blocking program: must not block the server's loop
        return f"slept for {input[-1].content}"

    return serve


async def _post_all(url: str, n: int) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=30) as http:
        return await asyncio.gather(
            *(
                http.post(
                    f"{url}/v1/chat/completions",
                    json={"messages": [{"role": "user", "content": f"#{i}"}]},
                )
                for i in range(n)
            )
        )


async def test_sync_serve_runs_in_worker_threads(serve_program: Callable[..., str]) -> None:
    gauge = Gauge()
    url = serve_program(sleepy_program(gauge, 1.5), max_threads=8)
    t0 = time.perf_counter()
    batch = asyncio.ensure_future(_post_all(url, 8))
    await asyncio.to_thread(gauge.all_busy.wait, 1.0)
    async with httpx.AsyncClient() as http:  # the loop answers while all 8 threads block
        h0 = time.perf_counter()
        assert (await http.get(f"{url}/health")).status_code == 200
        health = time.perf_counter() - h0
    responses = await batch
    elapsed = time.perf_counter() - t0
    contents = [r.json()["choices"][0]["message"]["content"] for r in responses]
    assert contents == [f"slept for #{i}" for i in range(8)]
    # a blocked loop would answer /health only after the 1.5 s sleeps
    assert gauge.peak == 8 and health < 0.75 and elapsed < 6, (
        gauge.peak,
        health,
        elapsed,
    )  # serial: 12 s


async def test_worker_threads_are_bounded(serve_program: Callable[..., str]) -> None:
    gauge = Gauge()
    url = serve_program(sleepy_program(gauge, 0.3), max_threads=2)
    t0 = time.perf_counter()
    responses = await _post_all(url, 6)
    elapsed = time.perf_counter() - t0
    assert all(r.status_code == 200 for r in responses)
    assert gauge.peak == 2 and elapsed >= 0.85, (gauge.peak, elapsed)  # 3 rounds of 0.3 s


@pytest.fixture
def loopback_process() -> Iterator[LoopbackServer]:
    """The LLM server in its own process: this one runs the clients and m serve."""
    with LoopbackServer().spawn() as srv:
        yield srv


async def test_256_concurrent_streaming_sdk_clients(
    loopback_process: LoopbackServer, serve_program: Callable[..., str]
) -> None:
    loopback = loopback_process
    loopback.configure(tokens=3, ttft=1.0, token_delay=0.002)  # all 256 in flight at once
    url = serve_program(echo_program(loopback))
    expected = " ".join(f"tok{i}" for i in range(3))
    limits = httpx.Limits(max_connections=300, max_keepalive_connections=300)
    sdk = openai.AsyncOpenAI(
        base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=60,
        http_client=openai.DefaultAsyncHttpxClient(limits=limits),
    )  # fmt: skip

    async def one(i: int) -> tuple[str, str | None, int]:
        stream = await sdk.chat.completions.create(
            model=f"client-{i}", messages=[{"role": "user", "content": f"client {i}"}],
            stream=True, stream_options={"include_usage": True},
        )  # fmt: skip
        text, finish, tokens = [], None, 0
        async for chunk in stream:
            assert chunk.model == f"client-{i}"
            for choice in chunk.choices:
                text.append(choice.delta.content or "")
                finish = choice.finish_reason or finish
            if chunk.usage is not None:
                tokens = chunk.usage.completion_tokens
        return "".join(text), finish, tokens

    t0 = time.perf_counter()
    results = await asyncio.gather(*(one(i) for i in range(256)))
    elapsed = time.perf_counter() - t0
    await sdk.close()
    assert results == [(expected, "stop", 3)] * 256
    stats = loopback.stats(include_requests=False)
    assert stats.total_requests == 256 and stats.max_in_flight > 128  # really concurrent
    print(f"256 concurrent streams through m serve: {elapsed:.2f} s")
