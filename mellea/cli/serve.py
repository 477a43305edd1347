"""`m serve PROGRAM.py`: run a program's `serve()` as an OpenAI-compatible endpoint.

The stack is Starlette (routing, requests) on uvicorn (the ASGI server; it uses
`httptools` and `uvloop` when installed). See `mellea.serve.app` for the routes.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from typing import Any

INSTALL_HINT = 'm serve needs the serve extra: pip install "mellea[serve]"'


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "serve",
        help="serve a program's serve() as an OpenAI-compatible chat endpoint",
        description=(
            "Serve PROGRAM.py's serve() function at POST /v1/chat/completions "
            "(also GET /v1/models, GET /health, and a playground page at GET /)."
        ),
    )
    parser.add_argument("program", help="the Python file defining serve()")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default: %(default)s; 0.0.0.0 for every interface)",
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="port (default: %(default)s; 0 picks a free one)"
    )
    parser.add_argument(
        "--timeout", type=float, help="deadline in seconds per request (504 past it)"
    )
    parser.add_argument(
        "--max-threads",
        type=int,
        default=64,
        help="worker threads for a sync serve() (default: %(default)s)",
    )
    parser.add_argument(
        "--model-name", help="the model id GET /v1/models lists (default: the program's file name)"
    )
    parser.add_argument(
        "--debug", action="store_true", help="send tracebacks of failed requests to clients"
    )
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    parser.add_argument("--access-log", action="store_true", help="log every request")
    parser.set_defaults(run=run)  # fmt: skip


def run(args: argparse.Namespace) -> int:
    try:
        import starlette  # noqa: F401
        import uvicorn
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    from ..serve._program import ProgramError
    from ..serve.app import ServeOptions, create_app, load_program

    level = getattr(logging, args.log_level.upper())
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        program = load_program(args.program, max_threads=args.max_threads)
    except ProgramError as exc:
        print(f"m serve: {exc}", file=sys.stderr)
        return 2
    options = ServeOptions(timeout=args.timeout, debug=args.debug, model_name=args.model_name)
    app = create_app(program, options)
    try:
        sock = _bind(args.host, args.port)
    except OSError as exc:
        print(f"m serve: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(
        f"m serve: {args.program} at http://{shown}:{port}/v1 (playground: http://{shown}:{port}/)",
        file=sys.stderr,
        flush=True,
    )
    config = uvicorn.Config(
        app, log_level=args.log_level, access_log=args.access_log, timeout_graceful_shutdown=5
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn shut down gracefully, then re-raised the Ctrl-C
        return 130
    return 0


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so
    # (else every keep-alive response waits ~40 ms for a delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


__all__ = ["add_parser", "run"]
