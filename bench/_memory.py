"""Section 5: memory. Each measurement runs in a fresh child process (`python -m bench._memory`).

* Peak RSS (the kernel's high-water mark, see `_rss_mb`) of a process running the page's 256-thunk fan-out,
  vs a process doing the same gather with the `openai` SDK (when installed).
* Memory per in-flight thunk: `tracemalloc` growth while 10,000 thunks are pending on a
  server that does not answer within the measurement (ttft 60 s), vs 10,000 pending raw
  aiohttp POST tasks. Everything the thunk keeps alive counts: the thunk, its
  generation task on the I/O loop, its share of the open connections.
"""

from __future__ import annotations

import asyncio
import gc
import json
import resource
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

from tests.servers import LoopbackServer

from ._endpoints import PROMPT, Endpoint, endpoints
from ._raw import RawAiohttp
from ._report import ROOT, Goal, Row

SECTION = "5 memory"
FANOUT = 256
PENDING = 10_000
SLOW = 60.0  # server latency while thunks are counted: none completes meanwhile
RAW_IN_FLIGHT = 256  # mellea's OpenAI-compatible backend default (64 for Ollama)


def _rss_mb() -> float:
    """Peak RSS so far, in MiB.

    Linux keeps `ru_maxrss` across fork + exec, so a child of a big parent would report
    the parent's size; the kernel's high-water mark of this address space (VmHWM) starts
    fresh at exec. `getrusage` is the fallback elsewhere (macOS: bytes, not KiB).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


# -- child side -----------------------------------------------------------------------------


async def _peak_rss(who: str, ep: Endpoint) -> dict[str, float]:
    if who == "sdk":
        import openai

        sdk = openai.AsyncOpenAI(base_url=ep.base_url, api_key="x", max_retries=0, timeout=60)
        messages: Any = [{"role": "user", "content": PROMPT}]

        async def call() -> object:
            return await sdk.chat.completions.create(model="loopback", messages=messages)

        await call()  # warm-up: imports, first connection
        before = _rss_mb()
        await asyncio.gather(*(call() for _ in range(FANOUT)))
        await sdk.close()
    else:
        m = ep.session()
        await (await m.ainstruct(PROMPT)).avalue()
        before = _rss_mb()
        thunks = [await m.ainstruct(f"{PROMPT} {i}") for i in range(FANOUT)]
        await asyncio.gather(*(t.avalue() for t in thunks))
        await m.aclose()
    return {"before": before, "peak": _rss_mb()}


async def _per_pending(who: str, ep: Endpoint) -> dict[str, float]:
    raw = RawAiohttp(ep.base_url.removesuffix("/v1"), limit=RAW_IN_FLIGHT)
    m = ep.session()
    # Warm up both paths (lazy imports, the I/O thread) before anything is traced.
    warm = await m.ainstruct(PROMPT)
    await asyncio.sleep(0.1)
    await warm.acancel()
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    if who == "raw":
        # Queued behind a semaphore as mellea queues behind its concurrency limit.
        slots = asyncio.Semaphore(RAW_IN_FLIGHT)
        body = ep.body()

        async def post() -> None:
            async with slots:
                await raw.post(ep.path, body)

        held: list[Any] = [asyncio.create_task(post()) for _ in range(PENDING)]
    else:
        held = [await m.ainstruct(f"{PROMPT} {i}") for i in range(PENDING)]
    used = await _settled_growth(base)
    tracemalloc.stop()
    for h in held:
        h.cancel()
    await asyncio.sleep(0.1)
    await m.aclose()
    await raw.aclose()
    return {"bytes_each": used / PENDING}


async def _settled_growth(base: int) -> int:
    """Traced growth once it stops changing: the I/O thread may still be starting requests."""
    used = -1
    for _ in range(60):
        await asyncio.sleep(0.5)
        gc.collect()
        now = tracemalloc.get_traced_memory()[0] - base
        if abs(now - used) < 0.005 * now:
            break
        used = now
    return now


def _child(kind: str, who: str, server_url: str) -> None:
    ep = endpoints(server_url)[-1]  # the OpenAI-compatible one when mellea has it
    measure = _peak_rss if kind == "rss" else _per_pending
    print(json.dumps(asyncio.run(measure(who, ep))))


# -- parent side ----------------------------------------------------------------------------


def _spawn(kind: str, who: str, server_url: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench._memory", kind, who, server_url],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"memory child {kind}/{who} failed:\n{out.stderr[-2000:]}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run() -> list[Row]:
    from ._fanout import LATENCY, has_sdk

    rows: list[Row] = []
    name = endpoints("http://unused")[-1].name
    srv = LoopbackServer(ttft=LATENCY).spawn()
    try:
        srv.configure(record_requests=False)
        ours = _spawn("rss", "ours", srv.url)
        sdk = _spawn("rss", "sdk", srv.url) if has_sdk() else None
    finally:
        srv.stop()
    rows.append(Row(SECTION, f"{name}, peak RSS of a {FANOUT}-thunk fan-out vs openai.AsyncOpenAI",
                    ours["peak"], sdk["peak"] if sdk else None, "MB",
                    note=f"{ours['peak'] - ours['before']:+.1f} MB during the fan-out; "
                    + (f"SDK {sdk['peak'] - sdk['before']:+.1f} MB" if sdk else "no SDK")))  # fmt: skip

    srv = LoopbackServer(ttft=SLOW).spawn()
    try:
        srv.configure(record_requests=False)
        thunk = _spawn("pending", "ours", srv.url)
        raw = _spawn("pending", "raw", srv.url)
    finally:
        srv.stop()
    rows.append(Row(SECTION, f"{name}, memory per pending thunk ({PENDING:,}) vs raw aiohttp task",
                    thunk["bytes_each"] / 1024, raw["bytes_each"] / 1024, "KB",
                    Goal("<=", 4, "KB")))  # fmt: skip
    return rows


if __name__ == "__main__":
    _child(*sys.argv[1:4])
