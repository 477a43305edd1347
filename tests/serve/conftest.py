"""Fixtures for `m serve`: the real app on uvicorn, in a thread, on a free 127.0.0.1 port.

`serve_program(serve_fn_or_path, **options)` starts a server for a `serve()` function (or a
program file) and returns its base URL; it stops at the end of the test. Programs talk
to the loopback LLM server (`tests/servers/`) through mellea's OpenAI backend.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("uvicorn", reason='m serve needs the serve extra: pip install "mellea[serve]"')

import uvicorn

from mellea.backends.openai import OpenAIBackend
from mellea.serve._program import Program
from mellea.serve.app import ServeOptions, create_app, load_program
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer

PROGRAMS = Path(__file__).parent / "programs"
EXAMPLE = Path(__file__).parents[2] / "examples" / "m_serve" / "m_serve_example_simple.py"


class ServerThread:
    """uvicorn serving an app from a daemon thread (no signal handlers)."""

    def __init__(self, app: Any) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.bind(("127.0.0.1", 0))
        port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


def loopback_session(srv: LoopbackServer, **kwargs: Any) -> MelleaSession:
    return MelleaSession(OpenAIBackend("loopback", base_url=srv.openai_base_url), **kwargs)


@pytest.fixture
def serve_program() -> Iterator[Callable[..., str]]:
    servers: list[tuple[ServerThread, Program]] = []

    def start(target: Callable[..., Any] | Path, **options: Any) -> str:
        max_threads = options.pop("max_threads", 64)
        if isinstance(target, Path):
            program = load_program(target, max_threads=max_threads)
        else:
            program = Program(target, name="test-program", max_threads=max_threads)
        server = ServerThread(create_app(program, ServeOptions(**options))).start()
        servers.append((server, program))
        return server.url

    yield start
    for server, program in servers:
        server.stop()
        program.close()
