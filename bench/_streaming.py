"""Section 3: streaming 500 tokens at 2 ms each through `astream()`.

Every token must arrive (the joined chunks are asserted against the server's text), and
the time from the first to the last chunk is compared with the ideal 499 * 2 ms — goal
<= 1.01x. The loopback server paces tokens with relative sleeps, so it cannot be exactly
ideal either: a raw `httpx.AsyncClient` stream of the same request, interleaved with
ours, shows the server's own pacing, and ours / raw is mellea's share.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx

from mellea.backends import ModelOption
from tests.servers import LoopbackServer

from ._endpoints import PROMPT, Endpoint, endpoints
from ._report import Goal, Row
from ._timing import median_of_runs

SECTION = "3 streaming"
TOKENS = 500
DELAY = 0.002
IDEAL = (TOKENS - 1) * DELAY
EXPECTED = " ".join(f"tok{i}" for i in range(TOKENS))  # the server's `tokens=N` reply


class _Clock:
    """First and last arrival of non-empty text, and the text itself."""

    def __init__(self) -> None:
        self.first = self.last = 0.0
        self.parts: list[str] = []

    def saw(self, text: str) -> None:
        if text:
            self.last = time.perf_counter()
            self.first = self.first or self.last
            self.parts.append(text)

    def span(self) -> float:
        if "".join(self.parts) != EXPECTED:
            raise AssertionError(f"stream lost text: got {len(''.join(self.parts))} chars")
        return self.last - self.first


async def _ours(ep: Endpoint) -> float:
    m = ep.session()
    try:
        mot = await m.ainstruct(PROMPT, model_options={ModelOption.STREAM: True})
        clock = _Clock()
        while chunk := await mot.astream():  # "" only once computed and fully read
            clock.saw(chunk)
        return clock.span()
    finally:
        await m.aclose()


async def _raw_deltas(client: httpx.AsyncClient, ep: Endpoint) -> AsyncIterator[str]:
    async with client.stream("POST", ep.path, json=ep.body(stream=True)) as r:
        r.raise_for_status()
        async for line in r.aiter_lines():
            if ep.name == "openai":  # SSE: `data: {...}` events, then `data: [DONE]`
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                data: Any = json.loads(line[6:])
                choices = data.get("choices") or [{}]
                yield choices[0].get("delta", {}).get("content") or ""
            elif line:  # Ollama: NDJSON
                yield json.loads(line)["message"].get("content") or ""


async def _raw(client: httpx.AsyncClient, ep: Endpoint) -> float:
    clock = _Clock()
    async for delta in _raw_deltas(client, ep):
        clock.saw(delta)
    return clock.span()


async def _pair(ep: Endpoint, server_url: str) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as client:
        return await median_of_runs({"raw": lambda: _raw(client, ep), "ours": lambda: _ours(ep)})


def run() -> list[Row]:
    srv = LoopbackServer(tokens=TOKENS, token_delay=DELAY).spawn()
    try:
        srv.configure(record_requests=False)
        rows: list[Row] = []
        for ep in endpoints(srv.url):
            t = asyncio.run(_pair(ep, srv.url))
            ms = 1e3
            label = f"{ep.name}, {TOKENS} tokens (all delivered), first-to-last"
            rows += [
                Row(SECTION, f"{label} vs ideal", t["ours"] * ms, IDEAL * ms, "ms",
                    Goal("<=", 1.01)),
                Row(SECTION, f"{label}, raw httpx vs ideal", t["raw"] * ms, IDEAL * ms, "ms",
                    note="the server's own pacing"),
                Row(SECTION, f"{label} vs raw httpx", t["ours"] * ms, t["raw"] * ms, "ms"),
            ]  # fmt: skip
        return rows
    finally:
        srv.stop()
