"""Telemetry fixtures: the real OpenTelemetry SDK with in-memory exporters.

`otel` sets mellea's telemetry up with a `TracerProvider` whose spans go to an
`InMemorySpanExporter` and a `MeterProvider` read by an `InMemoryMetricReader` — the SDK's
own test exporters — and turns it off afterwards; `Otel.tracer(name)` is an application's
tracer on the same provider. `Otel.tree()` prints the finished spans
as an indented tree, `Otel.points(name)` gives a metric's data points.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from mellea.core import hooks
from mellea.telemetry import TelemetryConfig, setup, shutdown


@dataclass
class Otel:
    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader
    provider: TracerProvider  # an application's own spans go here too (`tracer(name)`)

    def tracer(self, name: str) -> Any:
        """A tracer of the application's, on the provider mellea reports to."""
        return self.provider.get_tracer(name)

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        found = list(self.exporter.get_finished_spans())
        return [s for s in found if name is None or s.name == name]

    def span(self, name: str) -> ReadableSpan:
        (found,) = self.spans(name)
        return found

    def parent_of(self, span: ReadableSpan) -> ReadableSpan | None:
        if span.parent is None:
            return None
        for candidate in self.spans():
            if candidate.context.span_id == span.parent.span_id:
                return candidate
        return None

    def children(self, span: ReadableSpan) -> list[ReadableSpan]:
        return sorted(
            (s for s in self.spans() if s.parent and s.parent.span_id == span.context.span_id),
            key=lambda s: s.start_time or 0,
        )

    def tree(self, show: Callable[[ReadableSpan], str] = lambda s: s.name) -> str:
        ids = {s.context.span_id for s in self.spans()}
        roots = sorted(
            (s for s in self.spans() if s.parent is None or s.parent.span_id not in ids),
            key=lambda s: s.start_time or 0,
        )
        lines: list[str] = []

        def walk(span: ReadableSpan, depth: int) -> None:
            lines.append("  " * depth + show(span))
            for child in self.children(span):
                walk(child, depth + 1)

        for root in roots:
            walk(root, 0)
        return "\n".join(lines)

    def points(self, name: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        return [
            point
            for resource in (data.resource_metrics if data else [])
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == name
            for point in metric.data.data_points
        ]

    def total(self, name: str, **attributes: Any) -> float:
        """Sum of a counter's (or a histogram's `sum`) points whose attributes match."""
        out = 0.0
        for point in self.points(name):
            if all(point.attributes.get(k) == v for k, v in attributes.items()):
                out += getattr(point, "value", None) if hasattr(point, "value") else point.sum
        return out

    def count(self, name: str, **attributes: Any) -> int:
        """Number of recordings of a histogram whose attributes match."""
        return sum(
            point.count
            for point in self.points(name)
            if all(point.attributes.get(k) == v for k, v in attributes.items())
        )


def start_otel(config: TelemetryConfig | None = None) -> Otel:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    setup(
        config or TelemetryConfig(),
        tracer_provider=tracer_provider,
        meter_provider=MeterProvider(metric_readers=[reader]),
    )
    return Otel(exporter, reader, tracer_provider)


@pytest.fixture
def otel() -> Iterator[Otel]:
    yield start_otel()
    shutdown()
    assert not hooks.active, "telemetry left hooks registered"
