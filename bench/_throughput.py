"""Section 12: the throughput ceiling — thunks completed per second with 256 in flight
against an instant loopback server (ttft 0, one token, OpenAI wire).

Ours: 256 workers, each looping `await (await m.ainstruct(...)).avalue()` until 2,000
calls are done; the baseline: raw aiohttp on the same loop doing the same POSTs with 256
in flight — goal >= 0.8x its requests per second. Raw httpx and the `openai` SDK are
measured the same way for reference (one round of 512 calls: they are slow). Median of 3 interleaved rounds after a warm-up;
CPU per call (this process, every thread) alongside. The session's history is reset
before each round: a `SimpleContext` keeps every turn (never sending it), and 10,000s of
kept thunks would make the garbage collector, not the HTTP path, the measure.
"""

from __future__ import annotations

import asyncio
import importlib.util
import statistics
import time
from collections.abc import Awaitable, Callable

import httpx

from tests.servers import LoopbackServer

from ._endpoints import PROMPT, Endpoint, endpoints
from ._raw import RawAiohttp
from ._report import Goal, Row

SECTION = "12 throughput"
CALLS = 2000
REFERENCE_CALLS = 512
IN_FLIGHT = 256
GOAL = Goal(">=", 0.8)

Call = Callable[[], Awaitable[object]]


async def _round(call: Call, calls: int = CALLS) -> tuple[float, float]:
    """(calls per second, CPU seconds per call) of `calls` calls, IN_FLIGHT at a time."""
    todo = iter(range(calls))

    async def worker() -> None:
        for _ in todo:
            await call()

    t0, cpu0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    return calls / (time.perf_counter() - t0), (time.process_time() - cpu0) / calls


async def measure(ep: Endpoint, server_url: str, rounds: int = 3) -> dict[str, tuple[float, float]]:
    m = ep.session()
    body = ep.body()
    raw = RawAiohttp(server_url, limit=IN_FLIGHT)
    client = httpx.AsyncClient(
        base_url=server_url, timeout=30, limits=httpx.Limits(max_connections=IN_FLIGHT)
    )

    async def ours() -> None:
        await (await m.ainstruct(PROMPT)).avalue()

    async def aiohttp_raw() -> None:
        ep.content(await raw.post(ep.path, body))

    async def httpx_raw() -> None:
        r = await client.post(ep.path, json=body)
        r.raise_for_status()
        ep.content(r.json())

    contenders: dict[str, Call] = {"aiohttp": aiohttp_raw, "ours": ours}
    references: dict[str, Call] = {"httpx": httpx_raw}
    sdk = None
    if importlib.util.find_spec("openai") is not None and ep.name == "openai":
        import openai

        sdk = openai.AsyncOpenAI(base_url=ep.base_url, api_key="none", max_retries=0)

        async def sdk_call() -> None:
            assert sdk is not None
            r = await sdk.chat.completions.create(
                model="loopback", messages=[{"role": "user", "content": PROMPT}]
            )
            assert r.choices[0].message.content

        references["openai SDK"] = sdk_call
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
    for call in contenders.values():  # warm-up: connections, caches, lazy imports
        await _round(call, IN_FLIGHT * 2)
    for _ in range(rounds):
        for name, call in contenders.items():
            if name == "ours":
                m.reset()
            results[name].append(await _round(call))
    for name, call in references.items():
        await _round(call, IN_FLIGHT)
        results[name] = [await _round(call, REFERENCE_CALLS)]
    await raw.aclose()
    await client.aclose()
    await m.aclose()
    if sdk is not None:
        await sdk.close()
    return {
        name: (statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs))
        for name, rs in results.items()
    }


def run() -> list[Row]:
    srv = LoopbackServer(tokens=1).spawn()
    try:
        srv.configure(record_requests=False)
        rows: list[Row] = []
        for ep in endpoints(srv.url):
            if ep.name != "openai":
                continue
            r = asyncio.run(measure(ep, srv.url))
            base_rate, base_cpu = r["aiohttp"]
            label = f"{ep.name}, {IN_FLIGHT} in flight, {CALLS} calls"
            rows.append(Row(SECTION, f"{label}: thunks/s vs raw aiohttp requests/s",
                            r["ours"][0], base_rate, "/s", GOAL))  # fmt: skip
            rows.append(Row(SECTION, f"{label}: CPU per thunk vs per raw aiohttp request",
                            r["ours"][1] * 1e3, base_cpu * 1e3, "ms"))  # fmt: skip
            for name in ("httpx", "openai SDK"):
                if name in r:
                    rows.append(Row(SECTION, f"{label}: raw {name} requests/s (reference)",
                                    r[name][0], base_rate, "/s"))  # fmt: skip
        return rows
    finally:
        srv.stop()
