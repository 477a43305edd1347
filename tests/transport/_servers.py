"""Raw asyncio HTTP/1.1 servers for the transport tests.

Deliberately hand-rolled (no HTTP library) so tests can misbehave precisely: stall
before or inside a response, drop or reset the connection mid-body, send malformed
framing. Each test passes a handler coroutine that owns one connection.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import ssl
import struct
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

__all__ = [
    "RawServer",
    "ServerConn",
    "ServerRequest",
    "echo_handler",
    "free_port",
    "make_self_signed_cert",
]


class ServerRequest:
    def __init__(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        self.method = method
        self.path = path
        self.headers = headers  # lower-cased names; last value wins
        self.body = body


class ServerConn:
    """One accepted connection, with helpers to read requests and write raw bytes."""

    def __init__(
        self, server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.index = server.accepted - 1  # 0 for the first connection the server saw
        self.requests = 0

    async def read_request(self) -> ServerRequest | None:
        """Next request on this connection, or None if the client closed it."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = bytearray()
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                body += await self.reader.readexactly(size + 2)
                del body[-2:]
            data = bytes(body)
        else:
            data = await self.reader.readexactly(int(headers.get("content-length", "0")))
        self.requests += 1
        return ServerRequest(method, path, headers, data)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def respond(
        self, body: bytes, *, status: str = "200 OK", headers: tuple[str, ...] = ()
    ) -> None:
        extra = "".join(f"{h}\r\n" for h in headers)
        head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
        await self.send(head.encode() + body)

    async def wait_client_close(self, timeout: float = 5.0) -> bool:
        """Read until the client disconnects; True if it did within ``timeout``."""
        try:
            async with asyncio.timeout(timeout):
                while await self.reader.read(65536):
                    pass
            return True
        except ConnectionError:
            return True
        except TimeoutError:
            return False

    def reset(self) -> None:
        """Close with a TCP RST instead of a FIN."""
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()


Handler = Callable[[ServerConn], Awaitable[None]]


class RawServer:
    """An in-process server on 127.0.0.1 counting connections.

    ``client_closed`` counts connections that ended with the handler having observed
    EOF/reset or simply finishing; ``max_open`` is the high-water mark of concurrently
    open connections.
    """

    def __init__(self, handler: Handler, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self._handler = handler
        self._ssl = ssl_context
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.accepted = 0
        self.open = 0
        self.max_open = 0
        self.closed = 0
        self.closed_event = asyncio.Event()
        self.port = 0
        self.observed_close = False  # set by handlers that watched the client go away

    def url(self, path: str = "/") -> str:
        scheme = "https" if self._ssl else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._on_conn, "127.0.0.1", 0, ssl=self._ssl)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2)
        await self._server.wait_closed()

    async def wait_closed(self, n: int, timeout: float = 3.0) -> bool:
        """Wait until at least ``n`` connections have ended."""
        try:
            async with asyncio.timeout(timeout):
                while self.closed < n:
                    self.closed_event.clear()
                    await self.closed_event.wait()
            return True
        except TimeoutError:
            return False

    async def _on_conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.accepted += 1
        self.open += 1
        self.max_open = max(self.max_open, self.open)
        try:
            await self._handler(ServerConn(self, reader, writer))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Cancelled by __aexit__. Finish normally: asyncio's start_server callback
            # logs an error for a handler task that ends cancelled (Python 3.11).
            pass
        finally:
            self.open -= 1
            self.closed += 1
            self.closed_event.set()
            writer.transport.abort()
            self._tasks.discard(task)


async def echo_handler(conn: ServerConn) -> None:
    """Keep-alive JSON echo: method, path, selected headers, body, connection index."""
    while (req := await conn.read_request()) is not None:
        payload = {
            "method": req.method,
            "path": req.path,
            "body": req.body.decode("latin-1"),
            "conn": conn.index,
            "transfer_encoding": req.headers.get("transfer-encoding"),
            "content_length": req.headers.get("content-length"),
        }
        close = req.headers.get("connection", "").lower() == "close"
        await conn.respond(
            json.dumps(payload).encode(),
            headers=("Content-Type: application/json",) + (("Connection: close",) if close else ()),
        )
        if close:
            return


def free_port() -> int:
    """A port nothing listens on (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_self_signed_cert(directory: Path) -> tuple[Path, Path] | None:
    """(cert, key) for 127.0.0.1/localhost, or None if no way to make one exists."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        openssl = shutil.which("openssl")
        if openssl is None:
            return None
        subprocess.run(
            [
                openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                "-subj", "/CN=localhost", "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout", str(key), "-out", str(cert),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        return cert, key

    import datetime
    import ipaddress

    pkey = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(pkey.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(pkey, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        pkey.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, key
