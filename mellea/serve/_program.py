"""Loading a mellea program and calling its `serve()` function.

`serve(input, requirements, model_options[, format][, client_options])`, sync or async.
An async `serve()` runs on the server's event loop. A sync one runs in a worker thread of
a bounded pool (`max_threads`): the event loop never blocks on it, and beyond that many
concurrent calls, requests wait for a free thread instead of starting more. A call whose
client left before its thread started never runs.

A sync `serve()` cannot be interrupted mid-call (Python threads cannot be cancelled): a
client that disconnects cancels what the call *returned*, once it returns. An async
`serve()` returning its thunk uncomputed (`await m.ainstruct(...)`) is cancelled at once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from .models import ChatMessage


class ProgramError(Exception):
    """The program file cannot be served (missing file, no `serve()`, import failure)."""


def load_module(path: str | Path) -> ModuleType:
    """Import the program file as a module (its directory importable, like `python file`)."""
    file = Path(path).resolve()
    if not file.is_file():
        raise ProgramError(f"no such program file: {path}")
    name = f"mellea_program_{file.stem}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ProgramError(f"cannot import {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pydantic and dataclasses resolve names through it
    if str(file.parent) not in sys.path:
        sys.path.insert(0, str(file.parent))
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


class Program:
    """A loaded program's `serve()`, ready to be called for each request."""

    def __init__(self, serve: Any, *, name: str = "mellea", max_threads: int = 64) -> None:
        if not callable(serve):
            raise ProgramError("the program has no callable serve()")
        self.serve = serve
        self.name = name
        params = inspect.signature(serve).parameters
        var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        self.accepts_format = var_kw or "format" in params
        self.accepts_client_options = var_kw or "client_options" in params
        self.is_async = inspect.iscoroutinefunction(serve) or inspect.iscoroutinefunction(
            getattr(serve, "__call__", None)  # noqa: B004 - an object with async __call__
        )
        self.max_threads = max_threads
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    @classmethod
    def from_file(cls, path: str | Path, *, max_threads: int = 64) -> Program:
        module = load_module(path)
        serve = getattr(module, "serve", None)
        if serve is None:
            raise ProgramError(f"{path} defines no serve() function")
        return cls(serve, name=Path(path).stem, max_threads=max_threads)

    async def call(
        self,
        messages: list[ChatMessage],
        requirements: list[str] | None,
        model_options: dict[str, Any],
        *,
        format: Any = None,
        client_options: dict[str, Any] | None = None,
    ) -> Any:
        """Call `serve()`; returns what it returned (a thunk, a SamplingResult, ...)."""
        kwargs: dict[str, Any] = {
            "input": messages,
            "requirements": requirements,
            "model_options": model_options,
        }
        if self.accepts_format:
            kwargs["format"] = format
        if self.accepts_client_options:
            kwargs["client_options"] = client_options or {}
        if self.is_async:
            result = await self.serve(**kwargs)
        else:
            result = await self._in_thread(functools.partial(self.serve, **kwargs))
        if inspect.isawaitable(result):  # a sync serve() that returned `m.ainstruct(...)`
            result = await result
        return result

    async def _in_thread(self, call: functools.partial[Any]) -> Any:
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(
                self.max_threads, thread_name_prefix="m-serve"
            )
        future = self._pool.submit(call)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            # Not started yet: it never will. Running: cancel what it returns.
            if not future.cancel():
                future.add_done_callback(_cancel_result)
            raise

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _cancel_result(future: concurrent.futures.Future[Any]) -> None:
    from ..core.thunk import ModelOutputThunk

    with contextlib.suppress(BaseException):
        result = future.result()
        if isinstance(result, ModelOutputThunk):
            result.cancel()


__all__ = ["Program", "ProgramError", "load_module"]
