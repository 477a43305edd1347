"""``python -m tests.servers [--port 0] ...``: run the loopback server.

Prints the bound port alone on the first stdout line, then serves until
SIGTERM/SIGINT, ``POST /_control/shutdown`` or (with ``--exit-on-stdin-eof``)
until its standard input is closed, so it never outlives the process that
spawned it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import threading

from ._core import LoopbackApp
from ._model import Settings


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.servers", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--ttft", type=float, default=0.0, help="seconds before the first token")
    p.add_argument("--token-delay", type=float, default=0.0, help="seconds between tokens")
    p.add_argument("--tokens", type=int, default=None, help="default reply: N tokens tok0..")
    p.add_argument("--reject-json-schema", action="store_true", help="emulate llama.cpp")
    p.add_argument("--models", default="loopback", help="comma-separated names for /api/tags")
    p.add_argument("--exit-on-stdin-eof", action="store_true")
    return p.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    settings = Settings(
        ttft=args.ttft,
        token_delay=args.token_delay,
        tokens=args.tokens,
        reject_json_schema=args.reject_json_schema,
        models=[m for m in args.models.split(",") if m],
    ).updated({})
    app = LoopbackApp(settings, subprocess_mode=True)
    port = await app.listen(args.host, args.port)
    loop = asyncio.get_running_loop()
    done = asyncio.Event()

    def request_stop() -> None:
        loop.call_soon_threadsafe(done.set)

    app.on_shutdown = request_stop
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, done.set)
    if args.exit_on_stdin_eof:

        def watch_stdin() -> None:
            fd = sys.stdin.fileno()
            try:  # raw os.read: a daemon thread must not hold the buffered-IO lock
                while os.read(fd, 4096):
                    pass
            except OSError:
                pass
            finally:
                request_stop()

        threading.Thread(target=watch_stdin, name="stdin-watch", daemon=True).start()
    print(port, flush=True)
    await done.wait()
    await app.close()


def main(argv: list[str] | None = None) -> int:
    asyncio.run(_serve(_parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
