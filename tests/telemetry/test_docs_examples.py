"""The telemetry docs pages' examples, unchanged, against the loopback server.

Verbatim copies of the pages' Python blocks are in `docs_examples/<page>/<nn>.py`
(Apache-2.0, see its LICENSE). Telemetry is configured at import by environment
variables, so each example runs in its own interpreter, configured as the page says,
with `start_session()` pointed at the loopback server (`MELLEA_BACKEND=ollama`,
`OLLAMA_HOST`) and OTLP pointed at a receiver on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.docs._harness import DOCS, python_blocks
from tests.servers import LoopbackServer
from tests.telemetry.otlp_receiver import OtlpReceiver, attributes

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = Path(__file__).resolve().parent / "docs_examples"

# The pages' other Python blocks, and why they are not run as programs.
NOT_RUNNABLE = {
    "observability_metrics/01": "fragment: `backend`, `msg`, `ctx` undefined, top-level await",
    "observability_metrics/02": "core area: run by tests/docs",
    "observability_metrics/04": "FastAPI is not a dependency of mellea",
    "observability_metrics/05": "Flask is not a dependency of mellea",
    "observability_metrics/08": "core area: run by tests/docs",
    "observability_logging/01": "fragment: `m` undefined (a core-area block, listed by tests/docs)",
    **{f"examples_traced-generation-loop/{n:02d}": "a part of /07, the whole file"
       for n in range(1, 7)},
}  # fmt: skip


def example_names() -> list[str]:
    return sorted(f"{p.parent.name}/{p.stem}" for p in EXAMPLES.glob("*/*.py"))


@pytest.mark.skipif(not DOCS.exists(), reason="shared spec folder not present")
def test_copies_are_verbatim_and_every_block_is_covered() -> None:
    for name in example_names():
        page, nn = name.split("/")
        assert (EXAMPLES / page / f"{nn}.py").read_text() == python_blocks(page)[int(nn) - 1]
    pages = {n.split("/")[0] for n in example_names()}
    every = {f"{p}/{i:02d}" for p in pages for i in range(1, len(python_blocks(p)) + 1)}
    assert every == set(example_names()) | set(NOT_RUNNABLE)


def run(name: str, srv: LoopbackServer, tmp_path: Path, prelude: str = "", **env: str) -> str:
    path = EXAMPLES / f"{name}.py"
    code = f"{prelude}\nexec(compile(open({str(path)!r}).read(), {str(path)!r}, 'exec'), " \
           "{'__name__': '__main__'})"  # fmt: skip
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MELLEA_", "OTEL_"))}
    clean.update(OLLAMA_HOST=srv.host_port, MELLEA_BACKEND="ollama", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, cwd=tmp_path,
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_status_checks(loopback: LoopbackServer, tmp_path: Path) -> None:
    off = run("observability_telemetry/01", loopback, tmp_path)
    assert off == "Tracing: False\nMetrics: False\n"
    on = run("observability_telemetry/01", loopback, tmp_path,
             MELLEA_TRACES_ENABLED="true", MELLEA_METRICS_ENABLED="true",
             MELLEA_METRICS_CONSOLE="true")  # fmt: skip
    assert on.startswith("Tracing: True\nMetrics: True\n")
    assert run("observability_tracing/01", loopback, tmp_path, MELLEA_TRACES_ENABLED="1") == (
        "Tracing enabled: True\n"
    )
    assert run("observability_metrics/07", loopback, tmp_path) == ""
    metrics_on = run("observability_metrics/07", loopback, tmp_path,
                     MELLEA_METRICS_ENABLED="true", MELLEA_METRICS_CONSOLE="true")  # fmt: skip
    assert metrics_on.startswith("Metrics are being collected\n")


def test_custom_metrics_reach_the_console_exporter(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    out = run("observability_metrics/06", loopback, tmp_path,
              MELLEA_METRICS_ENABLED="true", MELLEA_METRICS_CONSOLE="true")  # fmt: skip
    exported = json.loads(out)  # the console exporter's JSON, flushed at exit
    metrics = {
        m["name"]: m["data"]["data_points"]
        for resource in exported["resource_metrics"]
        for scope in resource["scope_metrics"]
        for m in scope["metrics"]
    }
    assert metrics["myapp.requests"][0]["value"] == 1
    assert metrics["myapp.requests"][0]["attributes"] == {
        "backend": "ollama",
        "model": "granite4.1:3b",
    }
    assert metrics["myapp.latency"][0]["sum"] == 120.5
    assert metrics["myapp.sessions.active"][0]["value"] == 0
    # Disabled, the same program runs and prints nothing.
    assert run("observability_metrics/06", loopback, tmp_path) == ""


def test_otlp_log_handler_exports(loopback: LoopbackServer, tmp_path: Path) -> None:
    # The example logs at INFO on its own logger; the application's level must let it
    # through (Python's default is WARNING), which the prelude sets — the code is as printed.
    with OtlpReceiver() as rx:
        run("observability_logging/02", loopback, tmp_path, "import logging; "
            "logging.getLogger('my_app').setLevel(logging.INFO)",
            MELLEA_LOGS_OTLP="true", OTEL_EXPORTER_OTLP_ENDPOINT=rx.grpc_endpoint)  # fmt: skip
        records = rx.wait_for(lambda r: r.log_records())
    assert [r.body.string_value for r in records] == ["This log will be exported via OTLP"]
    assert records[0].severity_text == "INFO"
    # Without MELLEA_LOGS_OTLP the handler is None and the example does nothing.
    assert run("observability_logging/02", loopback, tmp_path) == ""


def test_prometheus_scrape(loopback: LoopbackServer, tmp_path: Path) -> None:
    """The page's `start_http_server(9464)`, then a generation; Prometheus's format scraped."""
    path = EXAMPLES / "observability_metrics/03.py"
    program = (
        f"exec(open({str(path)!r}).read())\n"
        "import mellea, sys\n"
        "m = mellea.start_session()\n"
        "print(m.instruct('Write a haiku about programming').value, flush=True)\n"
        "sys.stdin.readline()\n"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MELLEA_", "OTEL_"))}
    env = {**clean, "OLLAMA_HOST": loopback.host_port, "MELLEA_BACKEND": "ollama",
           "MELLEA_METRICS_ENABLED": "true", "MELLEA_METRICS_PROMETHEUS": "true"}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-c", program], env=env, cwd=tmp_path, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("Echo: "), proc.stderr.read() if proc.stderr else line
        text = _scrape("http://127.0.0.1:9464/metrics")
    finally:
        proc.communicate("\n", timeout=60)
    assert proc.returncode == 0
    assert "# TYPE gen_ai_client_operation_duration_seconds histogram" in text
    assert re.search(r'gen_ai_client_operation_duration_seconds_count\{[^}]*'
                     r'gen_ai_provider_name="ollama"[^}]*\} 1\.0', text), text  # fmt: skip
    assert re.search(r"mellea_llm_requests_total\{[^}]*\} 1\.0", text)
    assert 'gen_ai_token_type="output"' in text


def _scrape(url: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                text: str = response.read().decode()
            if "gen_ai_client" in text or time.monotonic() > deadline:
                return text
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)


def test_traced_generation_loop(loopback: LoopbackServer, tmp_path: Path) -> None:
    """The example's full file with console tracing, then with OTLP to a receiver."""
    name = "examples_traced-generation-loop/07"
    out = run(name, loopback, tmp_path, MELLEA_TRACES_ENABLED="true", MELLEA_TRACES_CONSOLE="true")
    assert "Tracing enabled: True" in out and "Example complete!" in out
    assert '"name": "session"' in out  # the console exporter's JSON spans, on stdout
    plain = run(name, loopback, tmp_path)
    assert "Tracing enabled: False" in plain and '"name"' not in plain
    with OtlpReceiver() as rx:
        run(name, loopback, tmp_path, MELLEA_TRACES_ENABLED="true", MELLEA_TRACES_OTLP="true",
            OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=rx.grpc_endpoint, OTEL_SERVICE_NAME="mellea-example")  # fmt: skip
        spans = rx.wait_for(lambda r: r.spans())
    assert rx.service_names() == {"mellea-example"}
    by_id = {s.span_id: s for s in spans}
    (session,) = [s for s in spans if s.name == "session"]
    actions = [s for s in spans if s.name == "action"]
    assert len(actions) == 5  # instruct, two @generative calls, two chats
    assert all(a.parent_span_id == session.span_id for a in actions)
    chats = [s for s in spans if s.name.startswith("chat ")]
    for chat in chats:  # every model request sits inside the session's tree
        node = chat
        while node.parent_span_id:
            node = by_id[node.parent_span_id]
        assert node is session
        assert attributes(chat)["gen_ai.provider.name"] == "ollama"
