"""One HTTP endpoint: a single attempt at a request, with typed errors and a slot limit.

`HttpEndpoint.open` makes exactly one attempt — take a concurrency slot, connect, send,
read the response head — and maps every failure onto mellea's errors with advice.
Retries, backoff and failover live one layer up, in `ReplicaSet` (`_replicas.py`), which
every HTTP backend uses (Ollama with one endpoint). Everything here runs on the portal loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..core.errors import (
    BackendError,
    BackendProtocolError,
    BackendStatusError,
    BackendUnavailableError,
    ConnectTimeoutError,
    MelleaError,
    PoolTimeoutError,
    RateLimitedError,
    ReadTimeoutError,
    WriteTimeoutError,
)
from ..helpers.portal import get_portal
from ._policy import DEFAULT_CONNECT_TIMEOUT_S, DEFAULT_MAX_CONCURRENCY, DEFAULT_READ_TIMEOUT_S

_MAX_ERROR_BODY = 64 * 1024
BEFORE_ANSWER = "before answering"
MID_STREAM = "mid-stream"
IN_BODY = "while sending its answer"
_RATE_LIMIT_HINT = (
    "the server is rate limiting: lower max_concurrency, or allow more retries (RetryPolicy)"
)


class _Default:
    """Marks "not given" where None means "no limit"."""


_DEFAULT = _Default()


def make_timeout(timeout: float | httpx.Timeout | None) -> httpx.Timeout:
    """`timeout=` as backends accept it (seconds for every phase, or an httpx.Timeout).

    A number bounds connect (at most `DEFAULT_CONNECT_TIMEOUT_S`), write, and each read
    wait; the wait for a free request slot is not bounded (thunks queue; the per-call
    deadline `ModelOption.TIMEOUT` bounds a call as a whole). An `httpx.Timeout` sets
    each phase, `pool` included.
    """
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if timeout is None:
        return httpx.Timeout(DEFAULT_READ_TIMEOUT_S, connect=DEFAULT_CONNECT_TIMEOUT_S, pool=None)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return httpx.Timeout(timeout, connect=min(timeout, DEFAULT_CONNECT_TIMEOUT_S), pool=None)


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # unparseable: fall back to our own backoff
    return max(0.0, parsed.timestamp() - time.time())


def _proxied(base_url: str) -> bool:
    """True if the environment routes `base_url` through a proxy (HTTP_PROXY & co)."""
    import urllib.request

    parts = urlsplit(base_url)
    if parts.scheme not in urllib.request.getproxies():
        return False
    return not urllib.request.proxy_bypass(parts.hostname or "")


def _default_transport(base_url: str) -> httpx.AsyncBaseTransport | None:
    """Our fast HTTP/1.1 transport, or None (httpx's own) when a proxy must be used."""
    if _proxied(base_url):
        return None  # the fast transport does not speak to proxies
    from ._transport import FastAsyncTransport

    return FastAsyncTransport(max_connections=1000, max_keepalive=100)


def _phase_timeout(exc: httpx.HTTPError, phase: str) -> float | None:
    """The timeout (seconds) that `exc` ran into, from its request, if known."""
    try:
        timeouts = exc.request.extensions.get("timeout") or {}
    except RuntimeError:  # an httpx error without its request
        return None
    value = timeouts.get(phase)
    return value if isinstance(value, int | float) else None


def _secs(value: float | None) -> str:
    return "" if value is None else f" {value:g} s"


class HttpEndpoint:
    """A base URL plus the policy for talking to it. Creates no connection until used.

    `timeout=` is per phase (see `make_timeout`); `max_concurrency` bounds the requests
    in flight to this endpoint (None: unbounded) — more wait for a slot, in order.
    `status_hints` maps an HTTP status to advice appended to its error message.
    """

    def __init__(
        self,
        base_url: str,
        *,
        service: str,
        unavailable_hint: str = "",
        status_hints: Mapping[int, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_concurrency: int | None = DEFAULT_MAX_CONCURRENCY,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if max_concurrency is not None and (
            isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int)
        ):
            raise ValueError(f"max_concurrency must be an int or None, got {max_concurrency!r}")
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1 or None, got {max_concurrency!r}")
        self.base_url = base_url.rstrip("/")
        self.service = service
        self.where = f"{service} at {urlsplit(self.base_url).netloc or self.base_url}"
        self.unavailable_hint = unavailable_hint
        self.status_hints = {429: _RATE_LIMIT_HINT, **(status_hints or {})}
        self.headers = {"content-type": "application/json", **(headers or {})}
        self.timeout = make_timeout(timeout)
        self.timeout_given = timeout is not None
        self.max_concurrency = max_concurrency
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._slots: asyncio.Semaphore | None = None
        self.in_flight = 0
        """Requests holding a slot (connecting, waiting for the answer, or streaming)."""
        self.waiting = 0
        """Requests queued for a slot."""

    # ----- plumbing -----------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """True while an HTTP client (and possibly pooled connections) exists."""
        return self._client is not None

    def _get_client(self) -> httpx.AsyncClient:
        if self._client is None:
            transport = self._transport or _default_transport(self.base_url)
            self._client = httpx.AsyncClient(
                base_url=self.base_url, headers=self.headers, timeout=self.timeout,
                transport=transport, trust_env=transport is None,
            )  # fmt: skip
        return self._client

    async def aclose(self) -> None:
        """Close the client and its pooled connections (awaitable from any loop)."""
        client, self._client = self._client, None
        if client is None:
            return
        portal = get_portal()
        if portal.on_portal_thread():
            await client.aclose()
        else:
            # The connections belong to the portal loop; closing them from another
            # thread would queue the close on a loop that is not woken up to run it.
            closing = asyncio.run_coroutine_threadsafe(client.aclose(), portal.loop)
            await asyncio.wrap_future(closing)

    def limiter_stats(self) -> dict[str, int]:
        """`limit` (0: none), `in_flight` (holding a slot), `waiting` (queued), `free`."""
        limit = self.max_concurrency or 0
        free = self._slots._value if self._slots is not None else limit
        return {"limit": limit, "in_flight": self.in_flight, "waiting": self.waiting, "free": free}

    def transport_stats(self) -> dict[str, int] | None:
        """The connection pool's counters (`open`, `idle`, `in_use`, `waiters`), if known."""
        client = self._client
        transport = getattr(client, "_transport", None) if client is not None else None
        stats = getattr(transport, "stats", None)
        return stats() if callable(stats) else None

    def stream_read_timeout(self, explicit: float | _Default | None) -> float | None:
        """The per-chunk read timeout of a streaming call.

        `ModelOption.STREAM_TIMEOUT` when the caller set it (`explicit`); otherwise the
        read timeout of the backend's `timeout=` when that was given (so a backend built
        with `timeout=2` never waits 120 s for a chunk); otherwise the option's default.
        """
        if not isinstance(explicit, _Default):
            return explicit
        if self.timeout_given:
            return self.timeout.read
        from .model_options import DEFAULT_STREAM_TIMEOUT_S

        return DEFAULT_STREAM_TIMEOUT_S

    # ----- errors ----------------------------------------------------------------------

    def map_error(self, exc: Exception, *, phase: str) -> MelleaError:
        """A transport exception as mellea's typed error, with advice.

        `phase` is `BEFORE_ANSWER`, `MID_STREAM` or `IN_BODY`; only a connection dropped
        before any answer is marked retryable (the request never got a reply).
        """
        where = self.where
        hint = f" — {self.unavailable_hint}" if self.unavailable_hint else ""
        if isinstance(exc, httpx.ConnectTimeout):
            secs = _secs(_phase_timeout(exc, "connect"))
            return ConnectTimeoutError(
                f"connecting to {where} took longer than{secs} (connect timeout){hint}"
            )
        if isinstance(exc, httpx.ConnectError):
            return BackendUnavailableError(f"no {where} ({exc}){hint}")
        if isinstance(exc, httpx.ReadTimeout):
            secs = _secs(_phase_timeout(exc, "read"))
            if phase == MID_STREAM:
                advice = "raise ModelOption.STREAM_TIMEOUT if the model is just slow"
                return ReadTimeoutError(f"{where} went silent for{secs} mid-stream ({advice})")
            advice = "the server may be overloaded or still loading the model; raise timeout="
            return ReadTimeoutError(f"{where} sent nothing for{secs} {phase} ({advice})")
        if isinstance(exc, httpx.WriteTimeout):
            secs = _secs(_phase_timeout(exc, "write"))
            return WriteTimeoutError(f"{where} stopped accepting the request for{secs}")
        if isinstance(exc, httpx.PoolTimeout):
            secs = _secs(_phase_timeout(exc, "pool"))
            return PoolTimeoutError(f"no free connection to {where} within{secs}")
        if isinstance(exc, httpx.TimeoutException):
            return ReadTimeoutError(f"{where} timed out {phase}: {exc}")
        if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
            return BackendProtocolError(
                f"{where} dropped the connection {phase}: {exc}",
                retryable=phase == BEFORE_ANSWER,
            )
        return BackendError(f"{where} failed {phase}: {exc!r}")

    async def _status_error(self, response: httpx.Response) -> BackendStatusError:
        body = (await response.aread())[:_MAX_ERROR_BODY].decode("utf-8", "replace")
        detail = body.strip() or response.reason_phrase
        with contextlib.suppress(ValueError, AttributeError):
            err = json.loads(body).get("error", body)
            detail = err.get("message", str(err)) if isinstance(err, dict) else str(err)
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        hint = self.status_hints.get(status)
        cls = RateLimitedError if status == 429 else BackendStatusError
        return cls(
            f"{self.service} answered HTTP {status}: {detail}" + (f" — {hint}" if hint else ""),
            status_code=status, body=body, retry_after=retry_after,
        )  # fmt: skip

    # ----- one attempt --------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        """Hold one of `max_concurrency` slots for the block (released however it ends)."""
        if self.max_concurrency is None:
            self.in_flight += 1
            try:
                yield
            finally:
                self.in_flight -= 1
            return
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_concurrency)
        slots = self._slots
        self.waiting += 1
        try:
            async with asyncio.timeout(self.timeout.pool):
                await slots.acquire()
        except TimeoutError:
            raise PoolTimeoutError(
                f"all {self.max_concurrency} request slots to {self.where} stayed busy for "
                f"{self.timeout.pool:g} s (pool timeout); raise max_concurrency or the pool "
                "timeout"
            ) from None
        finally:
            self.waiting -= 1
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1
            slots.release()

    @contextlib.asynccontextmanager
    async def open(
        self, path: str, content: bytes, *, read_timeout: float | _Default | None = _DEFAULT
    ) -> AsyncIterator[httpx.Response]:
        """POST `content` (JSON bytes) once; yield the 2xx response, its body still unread.

        Holds a concurrency slot until the caller is done with the body; leaving the block
        early (cancellation, an error, a `break`) closes the connection, so the server
        sees the disconnect. `read_timeout` (streaming: the per-chunk timeout) overrides
        the endpoint's read timeout. Raises a typed `MelleaError` for any failure.
        """
        client = self._get_client()
        timeout = self.timeout
        if not isinstance(read_timeout, _Default):
            t = self.timeout
            timeout = httpx.Timeout(t.connect, read=read_timeout, write=t.write, pool=t.pool)
        async with self._slot():
            request = client.build_request("POST", path, content=content, timeout=timeout)
            try:
                response = await client.send(request, stream=True)
            except httpx.HTTPError as exc:
                raise self.map_error(exc, phase=BEFORE_ANSWER) from None
            try:
                if response.status_code >= 400:
                    try:
                        error = await self._status_error(response)
                    except httpx.HTTPError as exc:
                        raise self.map_error(exc, phase=IN_BODY) from None
                    raise error
                yield response
            finally:
                await response.aclose()

    async def read_json(self, response: httpx.Response) -> Any:
        """The whole (non-streamed) body, decoded; typed errors for drops and bad JSON."""
        try:
            raw = await response.aread()
        except httpx.HTTPError as exc:
            raise self.map_error(exc, phase=IN_BODY) from None
        try:
            return json.loads(raw)
        except ValueError:
            raise BackendProtocolError(
                f"{self.where} sent a body that is not JSON: {raw[:200]!r}"
            ) from None

    async def iter_lines(self, response: httpx.Response) -> AsyncIterator[bytes]:
        """Non-empty lines of a streamed body, as they arrive; transport errors typed."""
        pending = b""
        try:
            async for chunk in response.aiter_bytes():
                pending += chunk
                if b"\n" not in pending:
                    continue
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    line = line.rstrip(b"\r")
                    if line:
                        yield line
        except httpx.HTTPError as exc:
            raise self.map_error(exc, phase=MID_STREAM) from None
        if pending.strip():
            yield pending.rstrip(b"\r")


def decode_json_line(line: bytes, service: str) -> Any:
    """One NDJSON/SSE payload, or a typed protocol error naming the bad line."""
    try:
        return json.loads(line)
    except ValueError:
        raise BackendProtocolError(
            f"{service} sent a malformed stream line (not JSON): {line[:200]!r}"
        ) from None


__all__ = ["HttpEndpoint", "decode_json_line", "make_timeout", "parse_retry_after"]
