"""Raw-socket helpers for the HTTP-layer tests: a scripted server that records the exact
bytes it receives, a TLS front (terminates TLS, relays to a plain server) and a small
forward proxy (absolute-form requests and CONNECT tunnels). Each runs its own event loop
on a daemon thread, like the loopback server.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

DROP = b""
"""A scripted answer: read the request, then close the connection without a byte."""


def answer(text: str, *, close: bool = False, ollama: bool = False) -> bytes:
    """A complete OpenAI chat-completions (or Ollama /api/chat) response carrying `text`."""
    message = {"role": "assistant", "content": text}
    if ollama:
        return _response(json.dumps({"model": "m", "message": message, "done": True}), close)
    choice = {"index": 0, "message": message, "finish_reason": "stop"}
    body = json.dumps({"id": "c", "object": "chat.completion", "model": "m", "choices": [choice]})
    return _response(body, close)


def _response(text: str, close: bool) -> bytes:
    body = text.encode()
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + (b"Connection: close\r\n" if close else b"")
        + b"Content-Length: %d\r\n\r\n" % len(body)
    )
    return head + body


class _LoopThread:
    """An event loop on a daemon thread; `run(coro)` runs a coroutine there."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def stop(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(cancel_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


@dataclass
class Received:
    connection: int
    head: bytes
    body: bytes


@dataclass
class RawServer:
    """Answers each request with the next scripted bytes (`DROP`: close instead), or
    `answer("answer N")` when the script is empty; records every request's raw bytes."""

    script: list[bytes] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    connections: int = 0

    def __post_init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._lt = _LoopThread()
        self._server = self._lt.run(self._listen())
        self.port: int = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    async def _listen(self) -> asyncio.Server:
        return await asyncio.start_server(self._handle, "127.0.0.1", 0)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self.connections += 1
        conn = self.connections
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                self.requests.append(Received(conn, head, body))
                ollama = head.split(b" ")[1].startswith(b"/api/")
                text = f"answer {len(self.requests)}"
                reply = self.script.pop(0) if self.script else answer(text, ollama=ollama)
                if reply == DROP:
                    return
                writer.write(reply)
                await writer.drain()
        finally:
            writer.close()

    def close(self) -> None:
        self._lt.run(self._stop())
        self._lt.stop()

    async def _stop(self) -> None:
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


class TlsFront:
    """Terminates TLS with `context` on its own port and relays bytes to `target_port`;
    records each handshake's ALPN choice and client certificate."""

    def __init__(self, context: ssl.SSLContext, target_port: int) -> None:
        self.alpn: list[str | None] = []
        self.peer_certs: list[Any] = []
        self._target = target_port
        self._lt = _LoopThread()
        self._server = self._lt.run(asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=context))
        self.port: int = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tls = writer.get_extra_info("ssl_object")
        self.alpn.append(tls.selected_alpn_protocol() if tls else None)
        self.peer_certs.append(tls.getpeercert() if tls else None)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._target)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    def close(self) -> None:
        self._lt.loop.call_soon_threadsafe(self._server.close)
        self._lt.stop()


class ForwardProxy:
    """An HTTP forward proxy on 127.0.0.1: relays absolute-form requests (`GET
    http://host/...`) and opens CONNECT tunnels; `seen` lists each request line."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._lt = _LoopThread()
        self._server = self._lt.run(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port: int = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        request_line, _, rest = head.partition(b"\r\n")
        method, target, version = request_line.decode().split(" ")
        self.seen.append(f"{method} {target}")
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
        else:
            # One request per connection keeps the relay simple (and is allowed).
            from urllib.parse import urlsplit

            url = urlsplit(target)
            up_reader, up_writer = await asyncio.open_connection(url.hostname, url.port or 80)
            path = (url.path or "/") + (f"?{url.query}" if url.query else "")
            lines = [ln for ln in rest.split(b"\r\n") if ln and not _hop(ln)]
            up_writer.write(
                f"{method} {path} {version}\r\n".encode()
                + b"".join(ln + b"\r\n" for ln in lines)
                + b"Connection: close\r\n\r\n"
            )
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    def close(self) -> None:
        self._lt.loop.call_soon_threadsafe(self._server.close)
        self._lt.stop()


def _hop(line: bytes) -> bool:
    name = line.partition(b":")[0].strip().lower()
    return name in (b"connection", b"proxy-connection", b"proxy-authorization", b"keep-alive")


Cleanup = Callable[[], None]
