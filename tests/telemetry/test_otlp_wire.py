"""Exported over OTLP to a receiver on 127.0.0.1 that decodes the protobuf: the wire format.

A program configured only by environment variables (as the docs say) runs against the
loopback server in its own interpreter; at exit its spans, metrics and log records are
flushed to `OtlpReceiver` — over gRPC (the default) and over HTTP/protobuf.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import LoopbackServer, Reply
from tests.telemetry.otlp_receiver import OtlpReceiver, attributes

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import asyncio, logging, sys
from mellea.backends.ollama import OllamaModelBackend
from mellea.core.requirement import PartialValidationResult, Requirement, ValidationResult
from mellea.stdlib.components import Instruction
from mellea.stdlib.context import SimpleContext
from mellea.stdlib.streaming import stream

class Logs(Requirement):  # logs from inside mellea's work on the stream
    async def stream_validate(self, chunk, *, backend, ctx):
        logging.getLogger("mellea.example").warning("chunk seen")
        return PartialValidationResult("pass")

    async def validate(self, backend, ctx, *, format=None, model_options=None):
        return ValidationResult(True)

async def main():
    backend = OllamaModelBackend("granite4:micro", base_url=sys.argv[1])
    async with await stream(Instruction("Count."), backend, SimpleContext(),
                            requirements=[Logs("logs")], chunking="sentence") as run:
        async for _ in run:
            pass
    await backend.aclose()

asyncio.run(main())
"""


def run_program(loopback: LoopbackServer, env: dict[str, str]) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MELLEA_", "OTEL_"))}
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, loopback.url], env={**clean, **env}, cwd=ROOT,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # exporting prints nothing


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_spans_metrics_and_logs_arrive_decoded(protocol: str, loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text="One. Two."))
    with OtlpReceiver() as rx:
        endpoint = rx.grpc_endpoint if protocol == "grpc" else rx.http_endpoint
        run_program(loopback, {
            "MELLEA_TRACES_ENABLED": "true", "MELLEA_TRACES_OTLP": "true",
            "MELLEA_METRICS_ENABLED": "true", "MELLEA_METRICS_OTLP": "true",
            "MELLEA_LOGS_OTLP": "true",
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
            "OTEL_SERVICE_NAME": "wire-test",
        })  # fmt: skip
        spans = rx.wait_for(lambda r: r.spans(protocol))
        names = rx.wait_for(lambda r: r.metric_names())
        records = rx.wait_for(lambda r: r.log_records())
    (stream_span,) = [s for s in spans if s.name == "stream"]
    span_attributes = attributes(stream_span)
    assert span_attributes["mellea.streaming.chunking_strategy"] == "SentenceChunking"
    assert span_attributes["gen_ai.request.model"] == "granite4:micro"
    assert [e.name for e in stream_span.events][-1] == "completed"
    assert rx.span_scopes()["stream"] == "mellea.application"
    assert rx.service_names() == {"wire-test"}
    assert "mellea.sampling.successes" in names
    (successes,) = rx.metric("mellea.sampling.successes")
    assert successes.sum.data_points[0].as_int == 1
    warnings = [r for r in records if r.body.string_value == "chunk seen"]
    assert len(warnings) == 2
    # Logged inside the stream's work: the record carries that span's trace and span ids.
    assert {w.trace_id for w in warnings} == {stream_span.trace_id}
    assert {w.span_id for w in warnings} == {stream_span.span_id}
