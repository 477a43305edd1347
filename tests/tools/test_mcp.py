"""MCP tools against a real server the tests start (stdio, Streamable HTTP and SSE)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("mcp", reason="the mcp extra is not installed (pip install 'mellea[mcp]')")

from mellea.backends import ModelOption
from mellea.backends.ollama import OllamaModelBackend
from mellea.stdlib.session import MelleaSession
from mellea.stdlib.tool_calling import ToolErrorMessage, acall_tools, call_tools
from mellea.stdlib.tools.mcp import (
    MCPConnectionError,
    MCPToolError,
    discover_mcp_tools,
    http_connection,
    sse_connection,
    stdio_connection,
)
from tests.servers import LoopbackServer, Reply

ROOT = str(Path(__file__).resolve().parents[2])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(transport: str) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.tools.mcp_server", transport, str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                error = proc.stderr.read()  # type: ignore[union-attr]
                raise RuntimeError(f"the MCP test server did not start: {error!r}") from None
            time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stderr.close()  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def http_server() -> Iterator[str]:
    yield from serve("streamable-http")


@pytest.fixture(scope="module")
def sse_server() -> Iterator[str]:
    yield from serve("sse")


def stdio() -> dict[str, object]:
    return stdio_connection(sys.executable, args=["-m", "tests.tools.mcp_server", "stdio"],
                            env={"PYTHONPATH": ROOT, "PATH": os.environ.get("PATH", "")})  # fmt: skip


def connections(http_server: str, sse_server: str) -> dict[str, dict[str, object]]:
    return {
        "stdio": stdio(),
        "http": http_connection(f"{http_server}/mcp"),
        "sse": sse_connection(f"{sse_server}/sse"),
    }


def test_connection_helpers_build_the_configs() -> None:
    http = http_connection("https://x/mcp/", api_key="k", headers={"X-A": "1"}, read_timeout=5)
    assert http == {
        "transport": "streamable_http", "url": "https://x/mcp/", "connect_timeout": 30.0,
        "headers": {"Authorization": "Bearer k", "X-A": "1"}, "read_timeout": 5,
    }  # fmt: skip
    assert sse_connection("https://x/sse")["transport"] == "sse"
    conn = stdio_connection("gh", args=["mcp", "serve"], timeout=9)
    assert conn == {
        "transport": "stdio",
        "command": "gh",
        "args": ["mcp", "serve"],
        "read_timeout": 9,
    }


@pytest.mark.parametrize("kind", ["stdio", "http", "sse"])
async def test_tools_are_discovered_and_called(
    kind: str, http_server: str, sse_server: str
) -> None:
    connection = connections(http_server, sse_server)[kind]
    specs = await discover_mcp_tools(connection)
    assert sorted(s.name for s in specs) == ["add", "fail", "reverse", "whoami"]
    add = next(s for s in specs if s.name == "add")
    assert add.description == "Add two integers."
    assert set(add.input_schema["properties"]) == {"a", "b"}
    tools = {s.name: s.as_mellea_tool() for s in specs}
    assert await tools["add"].arun(a=2, b=3) == "5"
    assert tools["reverse"].run(text="abc") == "cba"  # sync: blocks on mellea's I/O loop
    with pytest.raises(MCPToolError, match="boom"):
        await tools["fail"].arun(message="boom")


def test_the_stdio_server_process_is_gone_after_each_call() -> None:
    specs = {s.name: s for s in __import__("asyncio").run(discover_mcp_tools(stdio()))}
    pid = int(specs["whoami"].as_mellea_tool().run())
    deadline = time.monotonic() + 5
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists()


async def test_the_model_calls_mcp_tools_and_sees_their_errors(
    loopback: LoopbackServer, http_server: str
) -> None:
    specs = await discover_mcp_tools(http_connection(f"{http_server}/mcp"))
    tools = [s.as_mellea_tool() for s in specs if s.name in {"add", "fail"}]
    loopback.enqueue(Reply(tool_calls=[
        {"name": "add", "arguments": {"a": 19, "b": 23}},
        {"name": "fail", "arguments": {"message": "disk on fire"}},
    ]))  # fmt: skip
    m = MelleaSession(OllamaModelBackend("m", base_url=loopback.url))
    mot = await m.ainstruct(
        "Add 19 and 23.", model_options={ModelOption.TOOLS: tools}, tool_calls=True
    )
    await mot.avalue()
    offered = loopback.stats().for_path("/api/chat")[0].body["tools"]
    assert sorted(t["function"]["name"] for t in offered) == ["add", "fail"]
    added, failed = await acall_tools(mot, m.backend)
    assert added.content == "42" and added.name == "add"
    assert isinstance(failed, ToolErrorMessage) and "disk on fire" in failed.content
    synced = call_tools(mot, m.backend)  # the sync twin
    assert synced[0].content == "42"


async def test_an_unreachable_server_is_a_typed_error() -> None:
    with pytest.raises(MCPConnectionError):
        await discover_mcp_tools(
            http_connection(f"http://127.0.0.1:{free_port()}/mcp", connect_timeout=2)
        )
    with pytest.raises(MCPConnectionError):
        await discover_mcp_tools(
            stdio_connection(sys.executable, args=["-c", "raise SystemExit(1)"], timeout=10)
        )
