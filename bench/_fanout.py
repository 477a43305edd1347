"""Section 2: the page's fan-out pattern with 0.5 s server latency.

`thunks = [await m.ainstruct(...) for i in range(n)]`, then gather their values: wall
time vs the ideal (one latency) at 32 and 256 thunks — goal <= 1.2x at 32 — and, at 256,
vs raw aiohttp gathering as many POSTs on the same loop (goal <= 1.05x), and vs the
`openai` SDK's `AsyncOpenAI` (for reference; `bench/openai_overhead.py`'s `fanout`).
Medians of 3 interleaved runs after a warm-up.
"""

from __future__ import annotations

import asyncio
import importlib.util
import math
import time
from collections.abc import Callable

from mellea.backends._policy import DEFAULT_MAX_CONCURRENCY
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer

from ._endpoints import PROMPT, Endpoint, endpoints
from ._raw import RawAiohttp
from ._report import Goal, Row
from ._timing import median_of_runs

SECTION = "2 fan-out"
LATENCY = 0.5
SIZES = (32, 256)
IDEAL_GOAL = {32: Goal("<=", 1.2)}


async def page(m: MelleaSession, n: int) -> float:
    """The page's pattern: start every thunk (each `ainstruct` awaited), then gather."""
    t0 = time.perf_counter()
    thunks = [await m.ainstruct(f"{PROMPT} {i}") for i in range(n)]
    values = await asyncio.gather(*(t.avalue() for t in thunks))
    elapsed = time.perf_counter() - t0
    assert all(values), "a fan-out call returned no text"
    return elapsed


async def _versus_raw(ep: Endpoint, server_url: str, n: int) -> dict[str, float]:
    """The page's pattern vs raw aiohttp gathering `n` POSTs, interleaved, medians."""
    m = ep.session()
    raw = RawAiohttp(server_url, limit=n)

    async def raw_page() -> float:
        t0 = time.perf_counter()
        bodies = [ep.body(f"{PROMPT} {i}") for i in range(n)]
        values = await asyncio.gather(*(raw.post(ep.path, b) for b in bodies))
        elapsed = time.perf_counter() - t0
        assert all(ep.content(v) for v in values)
        return elapsed

    try:
        return await median_of_runs({"aiohttp": raw_page, "ours": lambda: page(m, n)})
    finally:
        await raw.aclose()
        await m.aclose()


async def _median_page(make: Callable[[], MelleaSession], n: int) -> float:
    m = make()
    try:
        return (await median_of_runs({"ours": lambda: page(m, n)}))["ours"]
    finally:
        await m.aclose()


def _note(endpoint: str, n: int) -> str:
    # The Ollama backend keeps at most DEFAULT_MAX_CONCURRENCY requests in flight by design
    # (Ollama itself serves a few at a time), so a larger page runs in waves.
    if endpoint != "ollama" or n <= DEFAULT_MAX_CONCURRENCY:
        return ""
    waves = math.ceil(n / DEFAULT_MAX_CONCURRENCY)
    return (
        f"{DEFAULT_MAX_CONCURRENCY} in flight by design: {waves} waves, floor {waves * LATENCY:g} s"
    )


def has_sdk() -> bool:
    return importlib.util.find_spec("openai") is not None


def run() -> list[Row]:
    srv = LoopbackServer(ttft=LATENCY).spawn()
    try:
        srv.configure(record_requests=False)
        rows: list[Row] = []
        for ep in endpoints(srv.url):
            for n in SIZES:
                raw_time: float | None = None
                if ep.name == "openai" and n == max(SIZES):
                    both = asyncio.run(_versus_raw(ep, srv.url, n))
                    ours, raw_time = both["ours"], both["aiohttp"]
                else:
                    ours = asyncio.run(_median_page(ep.session, n))
                rows.append(Row(SECTION, f"{ep.name}, {n} thunks vs ideal {LATENCY} s", ours,
                                LATENCY, "s", IDEAL_GOAL.get(n), _note(ep.name, n)))  # fmt: skip
                if raw_time is not None:
                    rows.append(Row(SECTION, f"{ep.name}, {n} thunks vs raw aiohttp, same loop",
                                    ours, raw_time, "s", Goal("<=", 1.05)))  # fmt: skip
                if raw_time is not None and has_sdk():
                    from .openai_overhead import fanout

                    both = asyncio.run(fanout(ep.base_url, n, with_sdk=True))
                    rows.append(Row(SECTION, f"{ep.name}, {n} thunks vs openai.AsyncOpenAI "
                                    "(reference)", both["mellea fan-out"],
                                    both["openai SDK fan-out"], "s"))  # fmt: skip
        return rows
    finally:
        srv.stop()
