"""Section 1: per-call overhead against raw aiohttp, server ttft 0 and a 1-token reply.

Async: `await (await m.ainstruct(...)).avalue()` vs a raw `aiohttp.ClientSession` POST of
the same body on the same (caller's) event loop — goal <= 1.1x. Sync: `m.instruct(...)`
vs a raw aiohttp POST driven from the calling thread through a loop on another thread
(what a sync API over an async client has to do) — goal <= 1.5x. Raw httpx rows (async
on the same loop, and the plain sync `httpx.Client`) are kept for reference. Median and
p90 of the per-call wall time, and CPU time per call, all from one interleaved run.
"""

from __future__ import annotations

import asyncio

import httpx

from tests.servers import LoopbackServer

from ._endpoints import PROMPT, Endpoint, endpoints
from ._raw import RawAiohttp, ThreadedAiohttp
from ._report import Goal, Row
from ._timing import Samples, interleave_async, interleave_sync

SECTION = "1 per-call"
ASYNC_GOAL = Goal("<=", 1.1)
SYNC_GOAL = Goal("<=", 1.5)


async def _async_set(ep: Endpoint, server_url: str, calls: int) -> dict[str, Samples]:
    m = ep.session()
    body = ep.body()
    raw = RawAiohttp(server_url)
    threaded = ThreadedAiohttp(server_url)
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as client:

        async def ours() -> None:
            await (await m.ainstruct(PROMPT)).avalue()

        async def aiohttp_raw() -> None:
            ep.content(await raw.post(ep.path, body))

        async def httpx_raw() -> None:
            r = await client.post(ep.path, json=body)
            r.raise_for_status()
            ep.content(r.json())

        async def aiohttp_other_loop() -> None:
            ep.content(await asyncio.wrap_future(threaded.submit(ep.path, body)))

        contenders = {
            "aiohttp": aiohttp_raw, "ours": ours, "httpx": httpx_raw, "hop": aiohttp_other_loop
        }  # fmt: skip
        result = await interleave_async(contenders, calls)
    threaded.close()
    await raw.aclose()
    await m.aclose()
    return result


def _sync_set(ep: Endpoint, server_url: str, calls: int) -> dict[str, Samples]:
    m = ep.session()
    body = ep.body()
    threaded = ThreadedAiohttp(server_url)
    with httpx.Client(base_url=server_url, timeout=30) as client:

        def httpx_raw() -> None:
            r = client.post(ep.path, json=body)
            r.raise_for_status()
            ep.content(r.json())

        contenders = {
            "aiohttp": lambda: ep.content(threaded.post(ep.path, body)),
            "ours": lambda: m.instruct(PROMPT),
            "httpx": httpx_raw,
        }
        result = interleave_sync(contenders, calls)
    threaded.close()
    m.close()
    return result


def _rows(label: str, s: dict[str, Samples], goal: Goal, httpx_label: str) -> list[Row]:
    ours, raw, ref = s["ours"], s["aiohttp"], s["httpx"]
    ms = 1e3
    hop = s.get("hop")
    extra = [] if hop is None else [
        Row(SECTION, f"({label.split(' vs ')[0]} vs raw aiohttp on another thread's loop, "
            "the two thread hops a thunk also makes, median)", ours.median * ms,
            hop.median * ms, "ms"),
    ]  # fmt: skip
    return [
        *extra,
        Row(SECTION, f"{label}, median", ours.median * ms, raw.median * ms, "ms", goal),
        Row(SECTION, f"{label}, p90", ours.p90 * ms, raw.p90 * ms, "ms", goal),
        Row(SECTION, f"{label}, CPU per call", ours.cpu_per_call * ms, raw.cpu_per_call * ms,
            "ms"),
        Row(SECTION, f"({httpx_label} vs the same raw aiohttp, median, for reference)",
            ref.median * ms, raw.median * ms, "ms"),
    ]  # fmt: skip


def run(calls: int = 400) -> list[Row]:
    srv = LoopbackServer(tokens=1).spawn()
    try:
        srv.configure(record_requests=False)  # the server's request log would grow all run
        rows: list[Row] = []
        for ep in endpoints(srv.url):
            a = asyncio.run(_async_set(ep, srv.url, calls))
            rows += _rows(f"{ep.name} async vs raw aiohttp, same loop", a, ASYNC_GOAL,
                          "raw httpx.AsyncClient")  # fmt: skip
            s = _sync_set(ep, srv.url, calls)
            rows += _rows(f"{ep.name} sync vs raw aiohttp driven from a thread", s, SYNC_GOAL,
                          "raw httpx.Client")  # fmt: skip
        return rows
    finally:
        srv.stop()
