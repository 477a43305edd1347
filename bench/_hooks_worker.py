"""One side of the hook-overhead and telemetry benches, run in its own process (see
`_hooks.py`, `_telemetry.py`).

    python bench/_hooks_worker.py SERVER_URL CALLS {none,noop,telemetry} [EXPECTED_ROOT]

Makes CALLS sync `m.instruct` calls (default strategy, no requirements) to the loopback
Ollama server after a warm-up and prints JSON: the median wall time per call and the CPU
time per call (this process, every thread). With `noop`, one no-op SEQUENTIAL hook is
registered on every hook point first; with `telemetry`, tracing and metrics are set up
through the real OpenTelemetry SDK (a `BatchSpanProcessor` whose exporter drops the
batches, a `MeterProvider` aggregating in memory). The `mellea` imported is whichever
comes first on sys.path (PYTHONPATH selects the tree: the current one, or an older
commit's).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any


def main() -> None:
    url, calls, plugins = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    import mellea
    from mellea.backends.ollama import OllamaModelBackend
    from mellea.stdlib.session import MelleaSession

    if len(sys.argv) > 4 and not str(mellea.__file__).startswith(sys.argv[4]):
        sys.exit(f"imported {mellea.__file__}, not the tree under {sys.argv[4]}")
    if plugins == "noop":
        from mellea.plugins import HookType, hook, register

        def noop(point: str) -> Any:
            @hook(point)
            async def observe(payload: Any, ctx: Any) -> None:
                return None

            return observe

        register([noop(point) for point in HookType])
    elif plugins == "telemetry":
        _setup_telemetry()
    m = MelleaSession(OllamaModelBackend("loopback", base_url=url))
    for _ in range(50):
        m.instruct("ping")
    walls = []
    cpu0 = time.process_time()
    for _ in range(calls):
        t0 = time.perf_counter()
        m.instruct("ping")
        walls.append(time.perf_counter() - t0)
    cpu = time.process_time() - cpu0
    m.close()
    print(json.dumps({"median": statistics.median(walls), "cpu_per_call": cpu / calls}))


def _setup_telemetry() -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

    from mellea.telemetry import TelemetryConfig, setup

    class Drop(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(Drop()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    setup(TelemetryConfig(), tracer_provider=tracer_provider, meter_provider=meter_provider)


if __name__ == "__main__":
    main()
