"""The installed commands, as processes: `m serve`, `m chat`, `python -m mellea "prompt"`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from tests.servers import LoopbackServer

from .conftest import EXAMPLE

BIN = Path(sys.executable).parent
M = str(BIN / "m")


def env_for(srv: LoopbackServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLAMA", "MELLEA"))}
    return env | {"MELLEA_BACKEND": "openai", "OPENAI_BASE_URL": srv.openai_base_url}


@pytest.fixture
def m_serve(loopback: LoopbackServer) -> Iterator[tuple[subprocess.Popen[str], str]]:
    cmd = [M, "serve", str(EXAMPLE), "--port", "0", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env_for(loopback), stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    try:
        assert " at http://127.0.0.1:" in line, line + proc.stderr.read()
        yield proc, line.split(" at ", 1)[1].split("/v1", 1)[0]
    finally:
        proc.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stderr.close()


def test_m_serve_command_serves_the_docs_example(
    m_serve: tuple[subprocess.Popen[str], str], loopback: LoopbackServer
) -> None:
    proc, url = m_serve
    sdk = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
    response = sdk.chat.completions.create(
        model="mellea", messages=[{"role": "user", "content": "Summarize this in one sentence."}]
    )
    assert response.choices[0].message.content.startswith("Echo: Summarize this in one sentence.")
    assert [m.id for m in sdk.models.list().data] == ["m_serve_example_simple"]
    proc.send_signal(signal.SIGINT)
    assert proc.wait(10) == 130  # Ctrl-C: a graceful shutdown, the conventional status
    assert proc.stderr is not None and "Traceback" not in proc.stderr.read()


def test_m_serve_errors_are_clear(tmp_path: Path) -> None:
    missing = subprocess.run(
        [M, "serve", str(tmp_path / "nope.py")], capture_output=True, text=True
    )
    assert missing.returncode == 2 and "no such program file" in missing.stderr
    (tmp_path / "empty.py").write_text("x = 1\n")
    no_serve = subprocess.run(
        [M, "serve", str(tmp_path / "empty.py")], capture_output=True, text=True
    )
    assert no_serve.returncode == 2 and "defines no serve() function" in no_serve.stderr
    usage = subprocess.run([M], capture_output=True, text=True)
    assert usage.returncode == 2 and "serve" in usage.stderr and "chat" in usage.stderr
    helped = subprocess.run([M, "serve", "--help"], capture_output=True, text=True)
    assert "--host" in helped.stdout and "--port" in helped.stdout


def test_python_m_mellea_prompt_still_works(loopback: LoopbackServer) -> None:
    base = ["--backend", "openai", "--base-url", loopback.openai_base_url]
    for extra in ([], ["--stream"]):
        out = subprocess.run(
            [sys.executable, "-m", "mellea", *base, *extra, "Write a haiku about rain."],
            capture_output=True, text=True, timeout=60, env=env_for(loopback),
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert out.stdout == "Echo: Write a haiku about rain.\n"


class Chat:
    """`m chat` as a child process: write lines, read what it printed so far."""

    def __init__(self, srv: LoopbackServer) -> None:
        cmd = [M, "chat", "--backend", "openai", "--base-url", srv.openai_base_url]
        self.proc = subprocess.Popen(
            cmd, env=env_for(srv), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, bufsize=1,
        )  # fmt: skip
        self.out = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while chunk := self.proc.stdout.read(1):
            self.out += chunk

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def wait_for(self, text: str, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.out:
            assert time.monotonic() < deadline, f"{text!r} not in {self.out!r}"
            time.sleep(0.01)

    def close(self) -> int:
        self.send("/exit")
        code = self.proc.wait(15)
        self._reader.join(5)
        return code


def chat_bodies(srv: LoopbackServer) -> list[list[dict[str, str]]]:
    return [r.body["messages"] for r in srv.stats().for_path("/v1/chat/completions")]


def test_m_chat_history_and_reset(loopback: LoopbackServer) -> None:
    chat = Chat(loopback)
    chat.send("hello")
    chat.wait_for("Echo: hello\n")
    chat.send("again")
    chat.wait_for("Echo: again\n")
    chat.send("/reset")
    chat.wait_for("(conversation cleared)")
    chat.send("fresh")
    chat.wait_for("Echo: fresh\n")
    assert chat.close() == 0
    first, second, third = chat_bodies(loopback)
    assert [m["content"] for m in second] == ["hello", "Echo: hello", "again"]  # history
    assert [m["content"] for m in third] == ["fresh"]  # forgotten after /reset
    assert all(body[-1]["role"] == "user" for body in (first, second, third))
    assert loopback.stats().for_path("/v1/chat/completions")[0].body["stream"] is True


def test_m_chat_ctrl_c_stops_the_answer_not_the_chat(loopback: LoopbackServer) -> None:
    loopback.configure(tokens=100, token_delay=0.1)  # a 10 s answer
    chat = Chat(loopback)
    chat.send("tell me a long story")
    chat.wait_for("tok2 ")  # it is streaming
    chat.proc.send_signal(signal.SIGINT)
    chat.wait_for("(stopped)")
    loopback.wait_idle(timeout=3)
    (request,) = loopback.stats().for_path("/v1/chat/completions")
    assert request.client_disconnected  # the generation was cancelled, its request aborted
    assert chat.proc.poll() is None  # still chatting
    loopback.configure(tokens=None, token_delay=0.0)
    chat.send("short one")
    chat.wait_for("Echo: short one\n")
    assert chat.close() == 0
    # the stopped turn left the history: the next request carries only the new message
    assert [m["content"] for m in chat_bodies(loopback)[-1]] == ["short one"]
