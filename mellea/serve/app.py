"""The ASGI application of `m serve` (Starlette, served by uvicorn).

```python
from mellea.serve.app import create_app, load_program
app = create_app(load_program("my_program.py"))   # any ASGI server can run it
```

Routes:
- `POST /v1/chat/completions` — OpenAI chat completions (JSON or SSE streaming);
- `GET /v1/models` — the one model this server offers (any `model` string is accepted
  and echoed: it is routing metadata, handed to `serve()` only inside `client_options`);
- `GET /health` — liveness;
- `GET /` — the playground page (files in `mellea/serve/playground/`, no build step and
  nothing fetched from elsewhere), which talks to `POST /playground/chat`.

Unknown routes and wrong methods answer in the OpenAI error shape too.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import _wire
from ._chat import ChatEndpoint, ServeOptions
from ._program import Program

_ASSETS = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
# The page loads only its own files; nothing inline, nothing from another origin.
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def load_program(path: str | Path, *, max_threads: int = 64) -> Program:
    """Import a program file and wrap its `serve()`; raises `ProgramError`."""
    return Program.from_file(path, max_threads=max_threads)


def create_app(program: Program, options: ServeOptions | None = None) -> Starlette:
    """The Starlette app serving `program` (see the module docstring)."""
    options = options or ServeOptions()
    model_id = options.model_name or program.name
    created = int(time.time())
    assets = {name: _asset(name) for name in _ASSETS}

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "pass", "program": program.name})

    async def models(request: Request) -> Response:
        entry = {"id": model_id, "object": "model", "created": created, "owned_by": "mellea"}
        return JSONResponse({"object": "list", "data": [entry]})

    async def page(request: Request) -> Response:
        name = request.path_params.get("name", "index.html")
        if name not in assets:
            raise HTTPException(404, f"no such file: {name}")
        headers = {"content-security-policy": _CSP, "cache-control": "no-cache"}
        return Response(assets[name], media_type=_ASSETS[name], headers=headers)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        program.close()

    routes = [
        Route("/", page, methods=["GET"]),
        Route("/playground/{name}", page, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/v1/chat/completions", ChatEndpoint(program, options), methods=["POST"]),
        Route("/playground/chat", ChatEndpoint(program, options, trace=True), methods=["POST"]),
    ]
    handlers: dict[Any, Any] = {HTTPException: _http_error}
    return Starlette(routes=routes, exception_handlers=handlers, lifespan=lifespan)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    kind = "invalid_request_error" if exc.status_code < 500 else "server_error"
    body = _wire.error_body(exc.detail, kind, code=str(exc.status_code))
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


def _asset(name: str) -> bytes:
    return resources.files("mellea.serve").joinpath("playground", name).read_bytes()


__all__ = ["ServeOptions", "create_app", "load_program"]
