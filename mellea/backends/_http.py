"""The HTTP layer shared by the Ollama and OpenAI-compatible backends.

One place maps transport failures onto mellea's errors, retries what is safe to retry,
limits how many requests are in flight, and splits streamed bodies into lines. Everything
here runs on the portal loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from ..core.errors import (
    BackendError,
    BackendProtocolError,
    BackendStatusError,
    BackendUnavailableError,
    ConnectTimeoutError,
    MelleaError,
    RateLimitedError,
    ReadTimeoutError,
)
from ..core.thunk import ModelOutputThunk
from ._policy import (
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_READ_TIMEOUT_S,
    RETRYABLE_STATUS,
    RetryPolicy,
)

logger = logging.getLogger("mellea")
_MAX_ERROR_BODY = 64 * 1024


class _Default:
    """Marks "not given" where None means "no limit"."""


_DEFAULT = _Default()


def make_timeout(timeout: float | httpx.Timeout | None) -> httpx.Timeout:
    """`timeout=` as backends accept it (seconds for every phase, or an httpx.Timeout)."""
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if timeout is None:
        return httpx.Timeout(DEFAULT_READ_TIMEOUT_S, connect=DEFAULT_CONNECT_TIMEOUT_S, pool=None)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return httpx.Timeout(timeout, connect=min(timeout, DEFAULT_CONNECT_TIMEOUT_S), pool=None)


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return None if parsed is None else max(0.0, parsed.timestamp() - time.time())


def _proxied(base_url: str) -> bool:
    """True if the environment routes `base_url` through a proxy (HTTP_PROXY & co)."""
    import urllib.request
    from urllib.parse import urlsplit

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


class HttpEndpoint:
    """A base URL plus the policy for talking to it. Creates no connection until used."""

    def __init__(
        self,
        base_url: str,
        *,
        service: str,
        unavailable_hint: str = "",
        headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,
        retry: RetryPolicy | None = None,
        max_concurrency: int | None = DEFAULT_MAX_CONCURRENCY,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1 or None, got {max_concurrency!r}")
        self.base_url = base_url.rstrip("/")
        self.service = service
        self.unavailable_hint = unavailable_hint
        self.headers = {"content-type": "application/json", **(headers or {})}
        self.timeout = make_timeout(timeout)
        self.retry = retry or RetryPolicy()
        self.max_concurrency = max_concurrency
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._slots: asyncio.Semaphore | None = None
        self.in_flight = 0

    # ----- plumbing -----------------------------------------------------------------

    def _get_client(self) -> httpx.AsyncClient:
        if self._client is None:
            transport = self._transport or _default_transport(self.base_url)
            self._client = httpx.AsyncClient(
                base_url=self.base_url, headers=self.headers, timeout=self.timeout,
                transport=transport, trust_env=transport is None,
            )  # fmt: skip
        return self._client

    def _get_slots(self) -> asyncio.Semaphore | None:
        if self._slots is None and self.max_concurrency is not None:
            self._slots = asyncio.Semaphore(self.max_concurrency)
        return self._slots

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def map_error(self, exc: Exception, *, phase: str) -> MelleaError:
        """A transport exception as mellea's typed error, with advice."""
        where = f"{self.service} at {self.base_url}"
        if isinstance(exc, httpx.ConnectTimeout):
            return ConnectTimeoutError(f"connecting to {where} timed out. {self.unavailable_hint}")
        if isinstance(exc, httpx.ConnectError):
            return BackendUnavailableError(
                f"cannot connect to {where} ({exc}). {self.unavailable_hint}".strip()
            )
        if isinstance(exc, httpx.ReadTimeout):
            return ReadTimeoutError(f"{where} went silent {phase} (read timeout)")
        if isinstance(exc, httpx.PoolTimeout):
            return ConnectTimeoutError(f"no free connection to {where} in time")
        if isinstance(exc, httpx.TimeoutException):
            return ReadTimeoutError(f"{where} timed out {phase}: {exc}")
        if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
            return BackendProtocolError(f"{where} dropped the connection {phase}: {exc}")
        return BackendError(f"{where} failed {phase}: {exc!r}")

    async def _status_error(self, response: httpx.Response) -> BackendStatusError:
        body = (await response.aread())[:_MAX_ERROR_BODY].decode("utf-8", "replace")
        detail = body
        with contextlib.suppress(ValueError, AttributeError):
            err = json.loads(body).get("error", body)
            detail = err.get("message", str(err)) if isinstance(err, dict) else str(err)
        status = response.status_code
        retry_after = _retry_after_seconds(response.headers.get("retry-after"))
        cls = RateLimitedError if status == 429 else BackendStatusError
        return cls(
            f"{self.service} answered HTTP {status}: {detail}",
            status_code=status, body=body, retry_after=retry_after,
        )  # fmt: skip

    # ----- requests -------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def open(
        self,
        path: str,
        payload: Any,
        mot: ModelOutputThunk[Any] | None = None,
        *,
        read_timeout: float | _Default | None = _DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> AsyncIterator[httpx.Response]:
        """POST `payload`; yield the (2xx) response with its body still unread.

        Holds a concurrency slot until the caller is done with the body. Failures before
        the response headers are retried per the retry policy (`retry` overrides the
        endpoint's for this call, e.g. NO_RETRY when a caller fails over or falls back
        itself); the body is never retried.
        """
        policy = retry or self.retry
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        client = self._get_client()
        slots = self._get_slots()
        timeout = self.timeout
        if not isinstance(read_timeout, _Default):  # streaming: the per-chunk timeout
            t = self.timeout
            timeout = httpx.Timeout(t.connect, read=read_timeout, write=t.write, pool=t.pool)
        if slots is not None:
            await slots.acquire()
        self.in_flight += 1
        try:
            attempt = 0
            while True:
                attempt += 1
                request = client.build_request("POST", path, content=body, timeout=timeout)
                error: MelleaError
                try:
                    response = await client.send(request, stream=True)
                except httpx.HTTPError as exc:
                    error = self.map_error(exc, phase="before answering")
                else:
                    if response.status_code < 400:
                        if mot is not None:
                            mot.generation.attempts = attempt
                        try:
                            yield response
                        finally:
                            await response.aclose()
                        return
                    try:
                        error = await self._status_error(response)
                    except httpx.HTTPError as exc:
                        error = self.map_error(exc, phase="while sending an error")
                    finally:
                        await response.aclose()
                if not self._should_retry(error, attempt, policy):
                    raise error
                delay = policy.delay(attempt, getattr(error, "retry_after", None), random.random())
                logger.info("%s; retrying in %.2f s", error, delay)
                await asyncio.sleep(delay)
        finally:
            self.in_flight -= 1
            if slots is not None:
                slots.release()

    def _should_retry(self, error: MelleaError, attempt: int, policy: RetryPolicy) -> bool:
        if attempt > policy.max_retries:
            return False
        if isinstance(error, BackendStatusError):
            return error.status_code in RETRYABLE_STATUS
        return isinstance(error, BackendUnavailableError | ConnectTimeoutError)

    async def post_json(
        self,
        path: str,
        payload: Any,
        mot: ModelOutputThunk[Any],
        *,
        retry: RetryPolicy | None = None,
    ) -> Any:
        """A non-streaming POST returning the decoded JSON body."""
        async with self.open(path, payload, mot, retry=retry) as response:
            try:
                raw = await response.aread()
            except httpx.HTTPError as exc:
                raise self.map_error(exc, phase="while sending its answer") from None
        try:
            return json.loads(raw)
        except ValueError:
            raise BackendProtocolError(
                f"{self.service} sent a body that is not JSON: {raw[:200]!r}"
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
            raise self.map_error(exc, phase="mid-stream") from None
        if pending.strip():
            yield pending.rstrip(b"\r")


def decode_json_line(line: bytes, service: str) -> Any:
    """One NDJSON/SSE payload, or a typed protocol error naming the bad line."""
    try:
        return json.loads(line)
    except ValueError:
        raise BackendProtocolError(
            f"{service} sent a malformed stream line: {line[:200]!r}"
        ) from None


__all__ = ["HttpEndpoint", "decode_json_line", "make_timeout"]
