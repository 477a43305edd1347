"""Section 1: per-call overhead against raw httpx, server ttft 0 and a 1-token reply.

Async: `await (await m.ainstruct(...)).avalue()` vs a raw `httpx.AsyncClient` POST of the
same body on the same (caller's) event loop — goal <= 1.2x. Sync: `m.instruct(...)` vs a
raw `httpx.Client` POST — goal <= 2x. Median and p90 of the per-call wall time, and CPU
time per call, all from one interleaved run per pair.
"""

from __future__ import annotations

import asyncio

import httpx

from tests.servers import LoopbackServer

from ._endpoints import PROMPT, Endpoint, endpoints
from ._report import Goal, Row
from ._timing import Samples, interleave_async, interleave_sync

SECTION = "1 per-call"
ASYNC_GOAL = Goal("<=", 1.2)
SYNC_GOAL = Goal("<=", 2.0)


async def _async_pair(ep: Endpoint, server_url: str, calls: int) -> dict[str, Samples]:
    m = ep.session()
    body = ep.body()
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as client:

        async def ours() -> None:
            await (await m.ainstruct(PROMPT)).avalue()

        async def raw() -> None:
            r = await client.post(ep.path, json=body)
            r.raise_for_status()
            ep.content(r.json())

        result = await interleave_async({"raw": raw, "ours": ours}, calls)
    await m.aclose()
    return result


def _sync_pair(ep: Endpoint, server_url: str, calls: int) -> dict[str, Samples]:
    m = ep.session()
    body = ep.body()
    with httpx.Client(base_url=server_url, timeout=30) as client:

        def raw() -> None:
            r = client.post(ep.path, json=body)
            r.raise_for_status()
            ep.content(r.json())

        result = interleave_sync({"raw": raw, "ours": lambda: m.instruct(PROMPT)}, calls)
    m.close()
    return result


def _rows(label: str, s: dict[str, Samples], goal: Goal) -> list[Row]:
    ours, raw = s["ours"], s["raw"]
    ms = 1e3
    return [
        Row(SECTION, f"{label}, median", ours.median * ms, raw.median * ms, "ms", goal),
        Row(SECTION, f"{label}, p90", ours.p90 * ms, raw.p90 * ms, "ms", goal),
        Row(SECTION, f"{label}, CPU per call", ours.cpu_per_call * ms, raw.cpu_per_call * ms,
            "ms"),
    ]  # fmt: skip


def run(calls: int = 400) -> list[Row]:
    srv = LoopbackServer(tokens=1).spawn()
    try:
        srv.configure(record_requests=False)  # the server's request log would grow all run
        rows: list[Row] = []
        for ep in endpoints(srv.url):
            a = asyncio.run(_async_pair(ep, srv.url, calls))
            rows += _rows(f"{ep.name} async vs raw httpx.AsyncClient", a, ASYNC_GOAL)
            s = _sync_pair(ep, srv.url, calls)
            rows += _rows(f"{ep.name} sync vs raw httpx.Client", s, SYNC_GOAL)
        return rows
    finally:
        srv.stop()
