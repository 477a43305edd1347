"""Overhead of `OpenAIBackend` vs raw httpx, and a 256-way fan-out vs the `openai` SDK.

    .venv/bin/python bench/openai_overhead.py [--calls 500] [--fanout 256] [--latency 0.5]

The loopback OpenAI-compatible server runs in a subprocess (`srv.spawn()`), so it does
not share our GIL. Prints a markdown table.

1. Async per-call cost: `await (await m.ainstruct(...)).avalue()` vs a raw
   `httpx.AsyncClient` POST of the same body on the same event loop (median of `--calls`,
   measured in alternating blocks so drift hits both sides). Goal <= 1.2x.
2. Sync per-call cost: `m.instruct(...)` vs a raw `httpx.Client` POST. Goal <= 2x.
   For reference, the `openai` SDK's sync client against the same raw httpx baseline.
3. Fan-out: `--fanout` thunks started with `await m.ainstruct(...)` one after the other,
   then gathered (the spec page's pattern), with `--latency` s server latency, vs the
   `openai` SDK's `AsyncOpenAI` gathering the same number of `chat.completions.create`.
   Median wall time of 3 runs each, after a warm-up run. Needs `pip install -e .[bench]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import httpx

from mellea.backends.openai import OpenAIBackend
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer

MODEL = "loopback"
PROMPT = "ping"
BODY = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}], "stream": False}
BLOCK = 50


def _content(data: Any) -> str:
    return str(data["choices"][0]["message"]["content"])


async def _timed_async(fn: Callable[[], Awaitable[object]], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        await fn()
        out.append(time.perf_counter() - t0)
    return out


def _timed_sync(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def _alternate(pairs: dict[str, Callable[[int], list[float]]], calls: int) -> dict[str, float]:
    """Median seconds per call of each contender, run in alternating blocks."""
    samples: dict[str, list[float]] = {name: [] for name in pairs}
    for run in pairs.values():
        run(BLOCK)  # warm-up: connections, caches, lazy imports
    for _ in range(max(1, calls // BLOCK)):
        for name, run in pairs.items():
            samples[name] += run(BLOCK)
    return {name: statistics.median(s) for name, s in samples.items()}


async def async_overhead(base_url: str, calls: int) -> dict[str, float]:
    m = MelleaSession(OpenAIBackend(MODEL, base_url=base_url))
    client = httpx.AsyncClient(base_url=base_url, timeout=30)

    async def mellea_call() -> None:
        await (await m.ainstruct(PROMPT)).avalue()

    async def raw_call() -> None:
        r = await client.post("/chat/completions", json=BODY)
        r.raise_for_status()
        _content(r.json())

    samples: dict[str, list[float]] = {"mellea async": [], "httpx async": []}
    await _timed_async(mellea_call, BLOCK)
    await _timed_async(raw_call, BLOCK)
    for _ in range(max(1, calls // BLOCK)):
        samples["mellea async"] += await _timed_async(mellea_call, BLOCK)
        samples["httpx async"] += await _timed_async(raw_call, BLOCK)
    await client.aclose()
    await m.aclose()
    return {name: statistics.median(s) for name, s in samples.items()}


def sync_overhead(base_url: str, calls: int, with_sdk: bool) -> dict[str, float]:
    m = MelleaSession(OpenAIBackend(MODEL, base_url=base_url))
    client = httpx.Client(base_url=base_url, timeout=30)

    def raw_call() -> None:
        r = client.post("/chat/completions", json=BODY)
        r.raise_for_status()
        _content(r.json())

    pairs: dict[str, Callable[[int], list[float]]] = {
        "mellea sync": lambda n: _timed_sync(lambda: m.instruct(PROMPT), n),
        "httpx sync": lambda n: _timed_sync(raw_call, n),
    }
    if with_sdk:
        import openai

        sdk = openai.OpenAI(base_url=base_url, api_key="bench", max_retries=0)

        def sdk_call() -> None:
            r = sdk.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": PROMPT}]
            )
            assert r.choices[0].message.content

        pairs["openai SDK sync"] = lambda n: _timed_sync(sdk_call, n)
    result = _alternate(pairs, calls)
    client.close()
    m.close()
    return result


async def fanout(base_url: str, n: int, with_sdk: bool) -> dict[str, float]:
    m = MelleaSession(OpenAIBackend(MODEL, base_url=base_url))

    async def mellea_page() -> float:
        t0 = time.perf_counter()
        thunks = [await m.ainstruct(f"{PROMPT} {i}") for i in range(n)]
        await asyncio.gather(*(t.avalue() for t in thunks))
        return time.perf_counter() - t0

    runners: dict[str, Callable[[], Awaitable[float]]] = {"mellea fan-out": mellea_page}
    sdk: Any = None
    if with_sdk:
        import openai

        sdk = openai.AsyncOpenAI(base_url=base_url, api_key="bench", max_retries=0, timeout=60)

        async def sdk_page() -> float:
            t0 = time.perf_counter()
            await asyncio.gather(
                *(
                    sdk.chat.completions.create(
                        model=MODEL, messages=[{"role": "user", "content": f"{PROMPT} {i}"}]
                    )
                    for i in range(n)
                )
            )
            return time.perf_counter() - t0

        runners["openai SDK fan-out"] = sdk_page
    times: dict[str, list[float]] = {name: [] for name in runners}
    for run in runners.values():
        await run()  # warm-up: opens the connections
    for _ in range(3):
        for name, run in runners.items():
            times[name].append(await run())
    await m.aclose()
    if sdk is not None:
        await sdk.close()
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--fanout", type=int, default=256)
    parser.add_argument("--latency", type=float, default=0.5)
    args = parser.parse_args()
    try:
        import openai  # noqa: F401

        with_sdk = True
    except ImportError:
        print("(openai SDK not installed: `pip install -e .[bench]`; SDK rows skipped)")
        with_sdk = False

    srv = LoopbackServer().spawn()
    try:
        srv.configure(record_requests=False)
        url = srv.openai_base_url
        a = asyncio.run(async_overhead(url, args.calls))
        s = sync_overhead(url, args.calls, with_sdk)
        srv.configure(ttft=args.latency)
        f = asyncio.run(fanout(url, args.fanout, with_sdk))
    finally:
        srv.stop()

    def ms(x: float) -> str:
        return f"{x * 1000:.3f} ms"

    rows = [
        ("async call: mellea / raw httpx.AsyncClient", a["mellea async"], a["httpx async"],
         "<= 1.2x"),
        ("sync call: mellea / raw httpx.Client", s["mellea sync"], s["httpx sync"], "<= 2x"),
    ]  # fmt: skip
    if with_sdk:
        rows.append(("sync call: openai SDK / raw httpx.Client", s["openai SDK sync"],
                     s["httpx sync"], "(reference)"))  # fmt: skip
        rows.append((f"{args.fanout}-way fan-out, {args.latency} s latency: mellea / openai SDK",
                     f["mellea fan-out"], f["openai SDK fan-out"], "<= 1x"))  # fmt: skip
    print(f"\nOpenAI-compatible backend overhead ({args.calls} calls per side, median)\n")
    print("| measurement | mellea / subject | baseline | ratio | goal |")
    print("|---|---:|---:|---:|---|")
    for name, x, y, goal in rows:
        print(f"| {name} | {ms(x)} | {ms(y)} | {x / y:.2f}x | {goal} |")
    if not with_sdk:
        print(f"| {args.fanout}-way fan-out, mellea alone | {ms(f['mellea fan-out'])} | | | |")


if __name__ == "__main__":
    main()
