"""Benchmark FastAsyncTransport against httpx's own clients on loopback.

    python bench/transport_bench.py [--n 1000] [--rounds 3]

Spawns a trivial asyncio HTTP/1.1 server in a subprocess (so it has its own core) and
prints, for sync ``httpx.Client``, ``httpx.AsyncClient`` (httpcore + anyio) and
``httpx.AsyncClient(transport=FastAsyncTransport())``:

* µs per small JSON POST, sequential;
* µs per streamed response of 200 NDJSON chunks (read with ``aiter_raw``);
* wall time for 256 concurrent small POSTs (sync: sequential, and a 16-thread pool);

each also as a ratio to sync httpx. Best of ``--rounds`` rounds, after a warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mellea.backends._transport import FastAsyncTransport

SERVER = r"""
import asyncio, sys
BODY = b'{"model":"x","message":{"role":"assistant","content":"hi"},"done":true}'
CHAT = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY
LINE = b'{"model":"x","message":{"role":"assistant","content":"tok"},"done":false}\n'
CHUNK = b"%x\r\n%b\r\n" % (len(LINE), LINE)
STREAM = (b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
          + CHUNK * 200 + b"0\r\n\r\n")

class P(asyncio.Protocol):
    def connection_made(self, t):
        self.t = t
        self.buf = b""
    def data_received(self, d):
        self.buf += d
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i < 0:
                return
            head = self.buf[:i]
            cl = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.lower() == b"content-length":
                    cl = int(v)
            if len(self.buf) < i + 4 + cl:
                return
            self.buf = self.buf[i + 4 + cl:]
            if head.startswith(b"GET /stream"):
                # Pre-rendered, one write: keeps the server off the critical path so
                # the number measures the client's framing and iteration costs.
                self.t.write(STREAM)
            else:
                self.t.write(CHAT)

async def main():
    s = await asyncio.get_running_loop().create_server(P, "127.0.0.1", 0)
    print(s.sockets[0].getsockname()[1], flush=True)
    await s.serve_forever()

asyncio.run(main())
"""

PAYLOAD = {"model": "x", "messages": [{"role": "user", "content": "hi"}], "stream": False}


def best(rounds: int, fn: Callable[[], float]) -> float:
    return min(fn() for _ in range(rounds))


def abest(rounds: int, fn: Callable[[], Awaitable[float]]) -> float:
    async def run() -> float:
        return min([await fn() for _ in range(rounds)])

    return asyncio.run(run())


def bench_sync(base: str, n: int, rounds: int) -> dict[str, float]:
    with httpx.Client() as c:
        for _ in range(100):
            c.post(base + "/api/chat", json=PAYLOAD).json()

        def seq() -> float:
            t = time.perf_counter()
            for _ in range(n):
                c.post(base + "/api/chat", json=PAYLOAD).json()
            return (time.perf_counter() - t) / n

        def stream() -> float:
            m = max(20, n // 10)
            t = time.perf_counter()
            for _ in range(m):
                with c.stream("GET", base + "/stream") as r:
                    for _ in r.iter_raw():
                        pass
            return (time.perf_counter() - t) / m

        def conc_seq() -> float:
            t = time.perf_counter()
            for _ in range(256):
                c.post(base + "/api/chat", json=PAYLOAD).json()
            return time.perf_counter() - t

        out = {"seq": best(rounds, seq), "stream": best(rounds, stream)}
        out["conc"] = best(rounds, conc_seq)
    # Threads: how far a sync client gets with 16 workers (the GIL caps it).
    with httpx.Client(limits=httpx.Limits(max_connections=16)) as c:

        def conc_threads() -> float:
            t = time.perf_counter()
            with ThreadPoolExecutor(16) as pool:
                list(
                    pool.map(lambda _: c.post(base + "/api/chat", json=PAYLOAD).json(), range(256))
                )
            return time.perf_counter() - t

        conc_threads()
        out["conc_threads"] = best(rounds, conc_threads)
    return out


def bench_async(
    base: str, n: int, rounds: int, make: Callable[[], httpx.AsyncClient]
) -> dict[str, float]:
    async def run() -> dict[str, float]:
        async with make() as c:
            for _ in range(100):
                (await c.post(base + "/api/chat", json=PAYLOAD)).json()

            async def seq() -> float:
                t = time.perf_counter()
                for _ in range(n):
                    (await c.post(base + "/api/chat", json=PAYLOAD)).json()
                return (time.perf_counter() - t) / n

            async def stream() -> float:
                m = max(20, n // 10)
                t = time.perf_counter()
                for _ in range(m):
                    async with c.stream("GET", base + "/stream") as r:
                        async for _ in r.aiter_raw():
                            pass
                return (time.perf_counter() - t) / m

            async def one() -> None:
                (await c.post(base + "/api/chat", json=PAYLOAD)).json()

            async def conc() -> float:
                t = time.perf_counter()
                await asyncio.gather(*(one() for _ in range(256)))
                return time.perf_counter() - t

            await conc()  # warm the pool up to its concurrency
            return {
                "seq": min([await seq() for _ in range(rounds)]),
                "stream": min([await stream() for _ in range(rounds)]),
                "conc": min([await conc() for _ in range(rounds)]),
            }

    return asyncio.run(run())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="sequential requests per round")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        base = f"http://127.0.0.1:{int(server.stdout.readline())}"
        sync = bench_sync(base, args.n, args.rounds)
        default = bench_async(base, args.n, args.rounds, lambda: httpx.AsyncClient(timeout=30))
        fast = bench_async(
            base,
            args.n,
            args.rounds,
            lambda: httpx.AsyncClient(transport=FastAsyncTransport(), timeout=30),
        )
    finally:
        server.terminate()
        server.wait()

    rows = [("httpx.Client (sync)", sync), ("AsyncClient default", default),
            ("AsyncClient+FastAsyncTransport", fast)]  # fmt: skip
    print(f"{'client':32} {'small POST':>18} {'200-chunk stream':>22} {'256 concurrent':>22}")
    for name, r in rows:
        print(
            f"{name:32} {r['seq'] * 1e6:8.0f} µs {r['seq'] / sync['seq']:5.2f}x"
            f" {r['stream'] * 1e6:10.0f} µs {r['stream'] / sync['stream']:5.2f}x"
            f" {r['conc'] * 1e3:10.1f} ms {r['conc'] / sync['conc']:5.2f}x"
        )
    print(
        f"{'  (sync, 16 threads)':32} {'':18} {'':22}"
        f" {sync['conc_threads'] * 1e3:10.1f} ms {sync['conc_threads'] / sync['conc']:5.2f}x"
    )
    print("ratios are to sync httpx.Client (lower is better); 256 concurrent for sync = sequential")


if __name__ == "__main__":
    main()
