"""Section 8: the response cache (`CachedBackend`) against the loopback server.

- hit vs miss: per-call latency of `await (await m.ainstruct(...)).avalue()` when the
  answer is in the store (a repeated prompt) vs when it is not (a fresh prompt each call,
  so the request goes out and the answer is stored), ttft 0, a ~1 KB reply; and what the
  cache adds to a miss: the same fresh-prompt call without the cache.
- hits per second for that ~1 KB answer, sequential calls, from memory and from SQLite,
  vs uncached calls per second of the same reply (both from the same interleaved run as
  the latencies, so machine load hits them alike).
- single flight: 256 identical concurrent calls; how many requests reach the server.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import time
from pathlib import Path

from mellea.backends import ModelOption
from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.response_cache import CachedBackend, CacheStore, MemoryStore, SQLiteStore
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer

from ._endpoints import MODEL
from ._report import Goal, Row
from ._timing import Samples, interleave_async

SECTION = "8 cache"
TOKENS = 160  # "tok0 tok1 ... tok159": 1009 characters
GREEDY = {ModelOption.TEMPERATURE: 0}
CALLS = 400
LATENCY = 0.5  # the fan-out section's server latency


def _session(url: str, store: CacheStore | None) -> MelleaSession:
    backend = OllamaModelBackend(MODEL, base_url=url)
    return MelleaSession(backend if store is None else CachedBackend(backend, store))


async def _latencies(url: str, store: CacheStore) -> dict[str, Samples]:
    cached, plain = _session(url, store), _session(url, None)
    fresh = (f"prompt {i}" for i in itertools.count())
    answer = await (await cached.ainstruct("the hit", model_options=GREEDY)).avalue()
    assert len(answer) == len(" ".join(f"tok{i}" for i in range(TOKENS)))

    async def hit() -> None:
        mot = await cached.ainstruct("the hit", model_options=GREEDY)
        await mot.avalue()
        assert mot.generation.extra["cache"] == "hit"

    async def miss() -> None:
        mot = await cached.ainstruct(next(fresh), model_options=GREEDY)
        await mot.avalue()
        assert mot.generation.extra["cache"] == "miss"

    async def uncached() -> None:
        await (await plain.ainstruct(next(fresh), model_options=GREEDY)).avalue()

    result = await interleave_async({"miss": miss, "hit": hit, "uncached": uncached}, CALLS)
    await cached.aclose()
    await plain.aclose()
    return result


def _per_second(s: Samples) -> float:
    return len(s.walls) / sum(s.walls)


async def _single_flight(url: str) -> tuple[int, float, int]:
    """The page's fan-out of one identical call: (calls, seconds, calls that shared)."""
    backend = CachedBackend(OllamaModelBackend(MODEL, base_url=url))
    m = MelleaSession(backend)
    t0 = time.perf_counter()
    mots = [await m.ainstruct("all at once", model_options=GREEDY) for _ in range(256)]
    await asyncio.gather(*(mot.avalue() for mot in mots))
    took = time.perf_counter() - t0
    await m.aclose()
    return len(mots), took, backend.stats.shared


def run() -> list[Row]:
    srv = LoopbackServer(tokens=TOKENS).spawn()
    rows: list[Row] = []
    ms = 1e3
    try:
        srv.configure(record_requests=False)
        with tempfile.TemporaryDirectory() as tmp:
            stores: dict[str, CacheStore] = {
                "memory": MemoryStore(),
                "SQLite": SQLiteStore(Path(tmp) / "bench.sqlite3"),
            }
            size = len(" ".join(f"tok{i}" for i in range(TOKENS)))
            for name, store in stores.items():
                s = asyncio.run(_latencies(srv.url, store))
                rows += [
                    Row(SECTION, f"{name}: hit vs miss, per call (median)", s["hit"].median * ms,
                        s["miss"].median * ms, "ms", Goal("<=", 0.5)),
                    Row(SECTION, f"{name}: miss vs no cache, per call (median)",
                        s["miss"].median * ms, s["uncached"].median * ms, "ms",
                        note="what the lookup and the store add to a call they cannot serve"),
                    Row(SECTION, f"{name}: hits/s, {size} B answer, vs uncached calls/s",
                        _per_second(s["hit"]), _per_second(s["uncached"]), "calls/s",
                        Goal(">=", 2.0)),
                ]  # fmt: skip
            asyncio.run(stores["SQLite"].aclose())  # type: ignore[attr-defined]
        srv.reset()  # statistics and defaults
        srv.configure(tokens=TOKENS, ttft=LATENCY)
        calls, took, shared = asyncio.run(_single_flight(srv.url))
        requests = len(srv.stats().for_path("/api/chat"))
        rows.append(
            Row(SECTION, f"single flight: {calls} identical concurrent calls, requests sent",
                requests, calls, "requests", Goal("<=", 1, "requests"),
                note=f"{shared} shared the first one's request; all answered in "
                     f"{took * ms:.0f} ms at {LATENCY * ms:.0f} ms server latency")
        )  # fmt: skip
        return rows
    finally:
        srv.stop()
