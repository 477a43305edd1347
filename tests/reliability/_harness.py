"""Fault-injection harness: one client over either HTTP backend, driven on the sync or the
async path by the same test body, plus the leak checks every fault test ends with.

```python
h = Harness("ollama", "sync", srv, timeout=0.5)
out = await h.call("x", stream=True)        # sync: m.instruct(...) (blocking)
err = out.expect(ReadTimeoutError)          # async: await (await m.ainstruct(...)).avalue()
await h.assert_no_leaks()                   # tasks, limiter slots, connections, server
```
"""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from mellea.backends import ModelOption
from mellea.backends._chat import ChatBackend
from mellea.backends._policy import RetryPolicy
from mellea.backends._replicas import ReplicaSet
from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.openai import OpenAIBackend
from mellea.core.errors import MelleaError
from mellea.core.thunk import ModelOutputThunk
from mellea.helpers.portal import get_portal
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer

Kind = Literal["ollama", "openai", "litellm"]
Mode = Literal["sync", "async"]
E = TypeVar("E", bound=MelleaError)

FAST_RETRY = RetryPolicy(max_retries=2, backoff_initial=0.01, backoff_max=0.02)
RESULTS: list[tuple[str, str, str, str, float]] = []
"""(fault, backend, path, outcome, seconds) per run; printed after the session."""


def free_port() -> int:
    """A port nothing listens on (bound and released; nothing else grabs it that fast)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_backend(kind: Kind, url: str, **kw: Any) -> ChatBackend:
    """`url` is the server root (the OpenAI-compatible backends get `/v1` appended)."""
    kw.setdefault("retry", FAST_RETRY)
    if kind == "ollama":
        return OllamaModelBackend("test-model", base_url=url, **kw)
    if kind == "litellm":
        from mellea.backends.litellm import LiteLLMBackend

        return LiteLLMBackend("openai/test-model", base_url=f"{url}/v1", api_key="none", **kw)
    return OpenAIBackend("test-model", base_url=f"{url}/v1", **kw)


@dataclass
class Outcome:
    """What one call produced: its value or typed error, and how long it took."""

    value: str | None
    error: MelleaError | None
    seconds: float
    mot: ModelOutputThunk[Any] | None
    """The thunk (async path; the sync path only has it when the call succeeded)."""

    def expect(self, cls: type[E]) -> E:
        assert self.error is not None, f"expected {cls.__name__}, got the value {self.value!r}"
        assert isinstance(self.error, cls), f"expected {cls.__name__}, got {self.error!r}"
        if self.mot is not None:  # the thunk keeps exactly what the error reports
            assert self.mot.partial_value == self.error.partial_output
            assert self.mot.error is self.error
        return self.error

    def ok(self) -> str:
        assert self.error is None, f"expected a value, got {self.error!r}"
        assert self.value is not None
        return self.value

    @property
    def outcome(self) -> str:
        if self.error is None:
            return "ok"
        partial = f", partial {len(self.error.partial_output)} chars" * bool(
            self.error.partial_output
        )
        return f"{type(self.error).__name__}{partial}"


class Harness:
    """A session over one backend, called on the sync or the async path."""

    def __init__(
        self, kind: Kind, mode: Mode, server: LoopbackServer | str, **backend_kw: Any
    ) -> None:
        self.kind = kind
        self.mode = mode
        self.server = server if isinstance(server, LoopbackServer) else None
        url = server.url if isinstance(server, LoopbackServer) else server
        self.backend = make_backend(kind, url, **backend_kw)
        self.session = MelleaSession(self.backend)
        self._baseline = portal_tasks()

    @property
    def http(self) -> ReplicaSet:
        http = getattr(self.backend, "_http", None)
        assert isinstance(http, ReplicaSet), f"{self.kind} has no HTTP layer of ours"
        return http

    async def call(self, prompt: str = "x", *, stream: bool = False, **options: Any) -> Outcome:
        """One generation on this harness's path; never raises a MelleaError."""
        opts = {ModelOption.STREAM: stream, **options}
        t0 = time.perf_counter()
        if self.mode == "sync":
            try:
                mot = self.session.instruct(prompt, model_options=opts)
            except MelleaError as exc:
                return Outcome(None, exc, time.perf_counter() - t0, None)
            return Outcome(mot.value, None, time.perf_counter() - t0, mot)
        try:
            mot = await self.session.ainstruct(prompt, model_options=opts)
        except MelleaError as exc:  # refused before any thunk (bad options)
            return Outcome(None, exc, time.perf_counter() - t0, None)
        try:
            value = await mot.avalue()
        except MelleaError as exc:
            return Outcome(None, exc, time.perf_counter() - t0, mot)
        return Outcome(value, None, time.perf_counter() - t0, mot)

    def record(self, fault: str, out: Outcome) -> None:
        RESULTS.append((fault, self.kind, self.mode, out.outcome, out.seconds))

    # ----- leak checks ------------------------------------------------------------------

    def leaks(self, *, server: bool = True) -> list[str]:
        """Everything still held after the calls settled (empty: nothing leaked)."""
        found: list[str] = []
        client_open: int | None = 0
        if self.kind == "litellm":
            # LiteLLM pools connections itself (not observable): check our limiter only.
            slots = getattr(self.backend, "_slots", None)
            limit = getattr(self.backend, "max_concurrency", None)
            if slots is not None and slots._value != limit:
                found.append(f"limiter slots held: {limit - slots._value}")
            client_open = None
        http = getattr(self.backend, "_http", None)
        if isinstance(http, ReplicaSet) and any(http.busy()):
            found.append(f"requests still routed to replicas: {http.busy()}")
        gate = http.admission if isinstance(http, ReplicaSet) else None
        if gate is not None and (gate.admitted or gate.waiting):
            found.append(f"admission slots held: {gate.stats()}")
        for ep in http.endpoints if isinstance(http, ReplicaSet) else ():
            lim = ep.limiter_stats()
            if lim["in_flight"] or lim["waiting"] or lim["free"] != lim["limit"]:
                found.append(f"limiter slots held at {ep.base_url}: {lim}")
            stats = ep.pool_stats()
            if stats is not None:
                if stats["in_use"] or stats["waiters"] or stats["open"] != stats["idle"]:
                    found.append(f"connections in use at {ep.base_url}: {stats}")
                client_open = (client_open or 0) + stats["open"]
        running = [
            t for t in portal_tasks() - self._baseline if not t.done() and not _background(t)
        ]
        if running:
            found.append(f"tasks still running on the portal loop: {running}")
        if server and self.server is not None and self.server.is_alive():
            s = self.server.stats(include_requests=False)
            if s.in_flight:
                found.append(f"server still has {s.in_flight} request(s) in flight")
            if client_open is not None and s.open_connections != client_open:
                found.append(
                    f"server sees {s.open_connections} open connection(s), "
                    f"the client pools {client_open}"
                )
        return found

    async def assert_no_leaks(self, *, server: bool = True, timeout: float = 5.0) -> None:
        """Wait (briefly) for cleanup to settle, then assert nothing is held any more."""
        deadline = time.monotonic() + timeout
        # Polling: the counters live on other threads (portal, server), nothing to await.
        while (found := self.leaks(server=server)) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        assert not found, "leaked: " + "; ".join(found)

    async def aclose(self) -> None:
        """Close the backend; its pooled connections must then be gone on both sides."""
        await self.session.aclose()
        if self.server is not None and self.server.is_alive() and self.kind != "litellm":
            self.server.wait_for(lambda s: s.open_connections == 0)


def _background(task: asyncio.Task[Any]) -> bool:
    """A library's own long-lived worker (LiteLLM starts a logging worker on first use)."""
    return "LoggingWorker" in getattr(task.get_coro(), "__qualname__", "")


def portal_tasks() -> set[asyncio.Task[Any]]:
    """The tasks on mellea's I/O loop right now (other than the one asking)."""

    async def collect() -> set[asyncio.Task[Any]]:
        me = asyncio.current_task()
        return {t for t in asyncio.all_tasks() if t is not me}

    loop = get_portal().loop
    return asyncio.run_coroutine_threadsafe(collect(), loop).result(5.0)
