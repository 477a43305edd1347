"""``LoopbackServer``: the handle tests and benchmarks use to run the server.

The server runs either on its own event-loop thread in this process
(``start()``) or in a subprocess (``spawn()``: no GIL sharing, and it can be
killed). Every handle method talks to the running server over its
``/_control/*`` endpoints, so both modes behave identically.
"""

from __future__ import annotations

import asyncio
import enum
import http.client
import json
import os
import selectors
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from ._core import LoopbackApp
from ._model import Reply, Settings, Stats

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 10.0


class _Unset(enum.Enum):
    UNSET = 0


UNSET = _Unset.UNSET


class LoopbackError(RuntimeError):
    """The server could not be started, or a control call failed."""


class LoopbackServer:
    """A protocol-faithful Ollama + OpenAI-compatible LLM server on 127.0.0.1.

    ``ttft``/``token_delay``/``tokens`` are the defaults for unscripted replies
    (``reset()`` returns to them). ``port=0`` picks a free port.
    """

    def __init__(
        self,
        ttft: float = 0.0,
        token_delay: float = 0.0,
        tokens: int | None = None,
        *,
        reject_json_schema: bool = False,
        models: Sequence[str] = ("loopback",),
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._settings = Settings(
            ttft=ttft,
            token_delay=token_delay,
            tokens=tokens,
            reject_json_schema=reject_json_schema,
            models=list(models),
        ).updated({})
        self._host = host
        self._port = port
        self._mode: Literal["thread", "subprocess"] | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> Self:
        """Run the server on a daemon thread with its own event loop."""
        self._require_stopped()
        ready = threading.Event()
        failure: list[BaseException] = []

        def main() -> None:
            loop = asyncio.new_event_loop()
            app = LoopbackApp(self._settings)
            try:
                self._port = loop.run_until_complete(app.listen(self._host, self._port))
            except BaseException as exc:
                failure.append(exc)
                loop.close()
                ready.set()
                return
            self._loop = loop
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(_shutdown(app))
                loop.close()

        thread = threading.Thread(target=main, name="loopback-server", daemon=True)
        thread.start()
        if not ready.wait(START_TIMEOUT) or failure:
            thread.join(1.0)
            raise LoopbackError(f"loopback server failed to start: {failure}")
        self._thread = thread
        self._mode = "thread"
        return self

    def spawn(self) -> Self:
        """Run the server in a subprocess: ``python -m tests.servers --port 0 ...``."""
        self._require_stopped()
        s = self._settings
        cmd = [
            sys.executable,
            "-m",
            "tests.servers",
            "--host",
            self._host,
            "--port",
            str(self._port),
            "--ttft",
            repr(s.ttft),
            "--token-delay",
            repr(s.token_delay),
            "--models",
            ",".join(s.models),
            "--exit-on-stdin-eof",
        ]
        if s.tokens is not None:
            cmd += ["--tokens", str(s.tokens)]
        if s.reject_json_schema:
            cmd.append("--reject-json-schema")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=REPO_ROOT, env=env
        )
        assert proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            line = proc.stdout.readline() if sel.select(START_TIMEOUT) else b""
        try:
            self._port = int(line)
        except ValueError:
            proc.kill()
            proc.wait()
            _close_pipes(proc)
            raise LoopbackError(f"loopback subprocess failed to start (stdout: {line!r})") from None
        self._proc = proc
        self._mode = "subprocess"
        return self

    def stop(self) -> None:
        """Clean shutdown; idempotent. Leaves no thread or process behind."""
        if self._mode == "thread":
            loop, thread = self._loop, self._thread
            if loop is not None and thread is not None:
                loop.call_soon_threadsafe(loop.stop)
                thread.join(10.0)
        elif self._mode == "subprocess" and self._proc is not None:
            proc = self._proc
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5.0)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            _close_pipes(proc)
        self._mode = None
        self._thread = None
        self._loop = None
        self._proc = None

    def kill(self) -> None:
        """SIGKILL the subprocess (thread mode: same as ``stop()``)."""
        if self._mode == "subprocess" and self._proc is not None:
            self._proc.kill()
            self._proc.wait()
        self.stop()

    def __enter__(self) -> Self:
        if self._mode is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _require_stopped(self) -> None:
        if self._mode is not None:
            raise LoopbackError(f"loopback server already running ({self._mode} mode)")

    # -- addresses -------------------------------------------------------------

    @property
    def mode(self) -> Literal["thread", "subprocess"] | None:
        return self._mode

    @property
    def port(self) -> int:
        return self._port

    @property
    def host_port(self) -> str:
        """``127.0.0.1:PORT``, the form OLLAMA_HOST takes."""
        return f"{self._host}:{self._port}"

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def returncode(self) -> int | None:
        """Subprocess exit status once it has exited (3 after ``kill_after_chunks``)."""
        return self._proc.poll() if self._proc is not None else None

    def is_alive(self) -> bool:
        if self._mode == "thread":
            return self._thread is not None and self._thread.is_alive()
        if self._mode == "subprocess":
            return self._proc is not None and self._proc.poll() is None
        return False

    # -- control API -------------------------------------------------------------

    def _call(self, method: str, action: str, payload: Any = None) -> Any:
        if self._mode is None:
            raise LoopbackError("loopback server is not running")
        conn = http.client.HTTPConnection(self._host, self._port, timeout=10.0)
        try:
            body = None if payload is None else json.dumps(payload).encode()
            headers = {"Content-Type": "application/json"} if body is not None else {}
            conn.request(method, f"/_control/{action}", body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        if resp.status != 200:
            raise LoopbackError(f"control {action}: HTTP {resp.status}: {data.decode()}")
        return json.loads(data)

    def configure(
        self,
        *,
        ttft: float | _Unset = UNSET,
        token_delay: float | _Unset = UNSET,
        tokens: int | _Unset | None = UNSET,
        reject_json_schema: bool | _Unset = UNSET,
        record_requests: bool | _Unset = UNSET,
        models: Sequence[str] | _Unset = UNSET,
        vllm_version: str | _Unset | None = UNSET,
        strict_models: bool | _Unset = UNSET,
    ) -> None:
        """Change the server-wide defaults (only the arguments given)."""
        changes: dict[str, Any] = {
            "ttft": ttft,
            "token_delay": token_delay,
            "tokens": tokens,
            "reject_json_schema": reject_json_schema,
            "record_requests": record_requests,
            "models": list(models) if not isinstance(models, _Unset) else models,
            "vllm_version": vllm_version,
            "strict_models": strict_models,
        }
        self._call("POST", "configure", {k: v for k, v in changes.items() if v is not UNSET})

    def enqueue(self, *replies: Reply | dict[str, Any]) -> None:
        """Queue scripted replies (``Reply`` objects or their JSON dicts)."""
        items = [
            r.to_json() if isinstance(r, Reply) else Reply.from_json(r).to_json() for r in replies
        ]
        self._call("POST", "enqueue", {"replies": items})

    def stats(self, *, include_requests: bool = True) -> Stats:
        query = "" if include_requests else "?requests=0"
        return Stats.from_json(self._call("GET", f"stats{query}"))

    def reset(self) -> None:
        """Clear the reply queue, the statistics and the defaults."""
        self._call("POST", "reset", {})

    def wait_for(
        self, predicate: Callable[[Stats], bool], timeout: float = 5.0, interval: float = 0.005
    ) -> Stats:
        """Poll ``stats()`` until ``predicate`` holds; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            snapshot = self.stats()
            if predicate(snapshot):
                return snapshot
            if time.monotonic() >= deadline:
                raise TimeoutError(f"loopback stats condition not met within {timeout}s")
            time.sleep(interval)

    def wait_idle(self, timeout: float = 5.0) -> Stats:
        """Wait until no request is in flight (e.g. after a client disconnect)."""
        return self.wait_for(lambda s: s.in_flight == 0, timeout)

    def __repr__(self) -> str:
        return f"LoopbackServer(url={self.url!r}, mode={self._mode!r})"


async def _shutdown(app: LoopbackApp) -> None:
    await app.close()
    current = asyncio.current_task()
    pending = [t for t in asyncio.all_tasks() if t is not current]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    await asyncio.get_running_loop().shutdown_asyncgens()


def _close_pipes(proc: subprocess.Popen[bytes]) -> None:
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            try:
                pipe.close()
            except OSError:
                pass
