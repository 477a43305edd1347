"""Interleaved per-call timing: wall time of every call and CPU time of every block.

Contenders run in alternating blocks (a, b, a, b, ...) so that whatever else the shared
machine does at a given moment hits both sides alike; the figures are medians and p90s
over all calls. CPU time is `time.process_time()`, i.e. every thread of this process
(mellea's I/O thread included), never the server's, which runs in a subprocess.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass
class Samples:
    walls: list[float] = field(default_factory=list)
    cpu: float = 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def p90(self) -> float:
        return statistics.quantiles(self.walls, n=10)[-1]

    @property
    def cpu_per_call(self) -> float:
        return self.cpu / len(self.walls)


async def interleave_async(
    contenders: dict[str, Callable[[], Awaitable[object]]], calls: int, block: int = 25
) -> dict[str, Samples]:
    """`calls` timed calls of each contender, in alternating blocks, after a warm-up block."""
    out = {name: Samples() for name in contenders}
    for fn in contenders.values():  # warm-up: connections, caches, lazy imports
        for _ in range(block):
            await fn()
    for _ in range(max(1, calls // block)):
        for name, fn in contenders.items():
            s = out[name]
            cpu0 = time.process_time()
            for _ in range(block):
                t0 = time.perf_counter()
                await fn()
                s.walls.append(time.perf_counter() - t0)
            s.cpu += time.process_time() - cpu0
    return out


def interleave_sync(
    contenders: dict[str, Callable[[], object]], calls: int, block: int = 25
) -> dict[str, Samples]:
    """The blocking twin of `interleave_async`."""
    out = {name: Samples() for name in contenders}
    for fn in contenders.values():
        for _ in range(block):
            fn()
    for _ in range(max(1, calls // block)):
        for name, fn in contenders.items():
            s = out[name]
            cpu0 = time.process_time()
            for _ in range(block):
                t0 = time.perf_counter()
                fn()
                s.walls.append(time.perf_counter() - t0)
            s.cpu += time.process_time() - cpu0
    return out


async def median_of_runs(
    runners: dict[str, Callable[[], Awaitable[float]]], runs: int = 3
) -> dict[str, float]:
    """Median of `runs` results per runner (each returns its own measure), interleaved."""
    for run in runners.values():
        await run()  # warm-up
    results: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(runs):
        for name, run in runners.items():
            results[name].append(await run())
    return {name: statistics.median(r) for name, r in results.items()}
