"""Section 7: `m serve` — what the server adds, and its tail latency under load.

`m serve bench/serve_program.py` runs in its own process (the real CLI), in front of the
loopback LLM server (another process); clients run here.

1. time per request: a raw `httpx.AsyncClient` POST through `m serve` vs awaiting the
   same program's `serve()` in this process (ttft 0, 1 token; interleaved, medians) —
   the difference is the server's whole cost: HTTP in and out, parsing, serialising.
2. p99 latency at 256 concurrent streams: 256 streaming requests at once (ttft 0.2 s,
   16 tokens 10 ms apart), each read to `[DONE]` and timed, through `m serve` vs the same
   256 sent straight to the LLM server (median of 3 runs' p99). The clients are plain
   aiohttp SSE readers: the `openai` SDK spends seconds of its own CPU on 256 streams on
   these 2 cores, which would hide the server (tests/serve checks the SDK's 256 streams).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time

import httpx

from tests.servers import LoopbackServer

from ._report import ROOT, Row
from ._timing import interleave_async

SECTION = "7 m serve"
PROGRAM = ROOT / "bench" / "serve_program.py"
CALLS = 400
STREAMS = 256
STREAM_TOKENS = 16


def run() -> list[Row]:
    with LoopbackServer().spawn() as srv:
        env = {**os.environ, "MELLEA_BACKEND": "openai", "OPENAI_BASE_URL": srv.openai_base_url}
        os.environ.update(MELLEA_BACKEND="openai", OPENAI_BASE_URL=srv.openai_base_url)
        server, url = _start_m_serve(env)
        try:
            return asyncio.run(_measure(srv, url))
        finally:
            server.terminate()
            server.wait(10)


def _start_m_serve(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    m = shutil.which("m", path=os.path.dirname(sys.executable))
    if m is None:
        raise RuntimeError("the m command is not installed: pip install -e '.[serve]'")
    cmd = [m, "serve", str(PROGRAM), "--port", "0", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stderr is not None
    line = proc.stderr.readline()  # "m serve: PROGRAM at http://127.0.0.1:PORT/v1 (...)"
    if " at http://" not in line:
        proc.kill()
        raise RuntimeError(f"m serve did not start: {line}{proc.stderr.read()}")
    return proc, line.split(" at ", 1)[1].split("/v1", 1)[0]


async def _measure(srv: LoopbackServer, url: str) -> list[Row]:
    from mellea.serve import ChatMessage
    from mellea.serve.app import load_program

    program = load_program(PROGRAM)
    message = [ChatMessage(role="user", content="ping")]
    body = {"model": "bench", "messages": [{"role": "user", "content": "ping"}]}
    srv.configure(tokens=1, ttft=0.0, token_delay=0.0, record_requests=False)

    async with httpx.AsyncClient(base_url=url, timeout=30) as http:

        async def in_process() -> None:
            thunk = await program.serve(message, None, {})
            assert await thunk.avalue() == "tok0"

        async def through_server() -> None:
            response = await http.post("/v1/chat/completions", json=body)
            assert response.json()["choices"][0]["message"]["content"] == "tok0"

        per_call = await interleave_async(
            {"in-process": in_process, "m serve": through_server}, CALLS
        )
    ours, base = per_call["m serve"], per_call["in-process"]
    rows = [
        Row(SECTION, "time per request through m serve vs the program in-process, median",
            ours.median * 1000, base.median * 1000, "ms"),
        Row(SECTION, "time per request through m serve vs the program in-process, p90",
            ours.p90 * 1000, base.p90 * 1000, "ms"),
    ]  # fmt: skip

    srv.configure(tokens=STREAM_TOKENS, ttft=0.2, token_delay=0.01)
    p99: dict[str, list[float]] = {"m serve": [], "direct": []}
    for _ in range(3):
        for name, base_url in (("direct", srv.openai_base_url), ("m serve", f"{url}/v1")):
            p99[name].append(await _p99_of_streams(base_url))
    ours_p99, direct_p99 = statistics.median(p99["m serve"]), statistics.median(p99["direct"])
    rows.append(
        Row(SECTION, f"p99 latency, {STREAMS} concurrent streams "
            f"(ttft 0.2 s + {STREAM_TOKENS} tokens at 10 ms), through m serve vs direct",
            ours_p99 * 1000, direct_p99 * 1000, "ms")
    )  # fmt: skip
    return rows


async def _p99_of_streams(base_url: str) -> float:
    """p99 of 256 simultaneous SSE streams, each read to `[DONE]` and its text checked."""
    import json

    import aiohttp

    expected = " ".join(f"tok{i}" for i in range(STREAM_TOKENS))
    connector = aiohttp.TCPConnector(limit=STREAMS + 8)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one(i: int) -> float:
            body = {"model": "loopback", "stream": True,
                    "messages": [{"role": "user", "content": f"stream {i}"}]}  # fmt: skip
            t0 = time.perf_counter()
            parts = []
            async with http.post(f"{base_url}/chat/completions", json=body) as response:
                async for line in response.content:
                    data = line.strip().removeprefix(b"data: ")
                    if not data or data == b"[DONE]":
                        continue
                    for choice in json.loads(data)["choices"]:
                        parts.append(choice["delta"].get("content") or "")
            assert "".join(parts) == expected, "a stream lost text"
            return time.perf_counter() - t0

        times = sorted(await asyncio.gather(*(one(i) for i in range(STREAMS))))
    return times[int(len(times) * 0.99) - 1]


__all__ = ["run"]
