"""Baseline cost of the loopback server: ``python -m tests.servers.selfbench [N]``.

Spawns the server in a subprocess and sends N sequential requests per case from
one keep-alive ``httpx.Client``. Reports client-observed requests/s and the
server process's CPU time per request (from ``Stats.cpu_seconds``).
"""

from __future__ import annotations

import sys
import time
from typing import Any

import httpx

from .loopback import LoopbackServer

CASES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "ollama /api/chat stream=false",
        "/api/chat",
        {"model": "m", "stream": False, "messages": [{"role": "user", "content": "hi there"}]},
    ),
    (
        "openai /v1/chat/completions",
        "/v1/chat/completions",
        {"model": "m", "messages": [{"role": "user", "content": "hi there"}]},
    ),
    (
        "openai stream, 20 tokens",
        "/v1/chat/completions",
        {"model": "m", "stream": True, "messages": [{"role": "user", "content": "x " * 18}]},
    ),
    ("GET /api/version", "/api/version", {}),
]


def run(n: int) -> list[dict[str, Any]]:
    results = []
    with LoopbackServer().spawn() as srv, httpx.Client(base_url=srv.url) as client:
        srv.configure(record_requests=False)
        for name, path, body in CASES:

            def send(path: str = path, body: dict[str, Any] = body) -> None:
                resp = client.post(path, json=body) if body else client.get(path)
                resp.raise_for_status()

            for _ in range(50):  # warm up
                send()
            cpu0 = srv.stats(include_requests=False).cpu_seconds
            t0 = time.perf_counter()
            for _ in range(n):
                send()
            wall = time.perf_counter() - t0
            cpu = srv.stats(include_requests=False).cpu_seconds - cpu0
            results.append(
                {
                    "case": name,
                    "requests": n,
                    "req_per_s": n / wall,
                    "wall_ms_per_req": wall / n * 1e3,
                    "server_cpu_ms_per_req": cpu / n * 1e3,
                }
            )
    return results


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    for r in run(n):
        print(
            f"{r['case']:32s} {r['req_per_s']:8.0f} req/s  "
            f"wall {r['wall_ms_per_req']:.3f} ms/req  "
            f"server CPU {r['server_cpu_ms_per_req']:.3f} ms/req"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
