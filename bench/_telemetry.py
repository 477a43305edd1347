"""Section 11: what OpenTelemetry costs a call when it is on (it costs nothing when off).

Each side runs in its own process (sync `m.instruct` calls to the loopback Ollama server,
1-token replies, so the library's own work dominates), in alternating rounds, medians
over rounds. "On" is tracing and metrics through the real SDK: a `BatchSpanProcessor`
with an exporter that drops the batches (no I/O in the figure) and a `MeterProvider`
aggregating every instrument. Two spans per call (`action`, `chat`), metrics on tokens,
duration and requests. For information: no goal (a model call takes 100 ms and more).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from tests.servers import LoopbackServer

from ._report import ROOT, Row

SECTION = "11 telemetry"

WORKER = Path(__file__).with_name("_hooks_worker.py")  # its `telemetry` side sets up the SDK


def _side(url: str, calls: int, side: str) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MELLEA_", "OTEL_"))}
    env["PYTHONPATH"] = str(ROOT)
    mode = "telemetry" if side == "on" else "none"
    done = subprocess.run(
        [sys.executable, str(WORKER), url, str(calls), mode, str(ROOT / "mellea")], env=env,
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    result: dict[str, float] = json.loads(done.stdout)
    return result


def run(calls: int = 300, rounds: int = 5) -> list[Row]:
    srv = LoopbackServer(tokens=1).spawn()
    try:
        srv.configure(record_requests=False)
        sides: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
        for _ in range(rounds):
            for side in sides:
                sides[side].append(_side(srv.url, calls, side))
    finally:
        srv.stop()

    def median(side: str, key: str) -> float:
        return statistics.median(r[key] for r in sides[side]) * 1e3

    return [
        Row(SECTION, "CPU per sync call, tracing + metrics on vs off",
            median("on", "cpu_per_call"), median("off", "cpu_per_call"), "ms"),
        Row(SECTION, "wall per sync call (median), tracing + metrics on vs off",
            median("on", "median"), median("off", "median"), "ms"),
    ]  # fmt: skip
