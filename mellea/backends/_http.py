"""One HTTP endpoint: a single attempt at a request, with typed errors and a slot limit.

`HttpEndpoint.open` makes exactly one attempt — take a concurrency slot, send the POST
through the backend's aiohttp session (`_http_client.py`), read the response head —
and maps every failure onto mellea's errors with advice. Nothing here tries a request
again (aiohttp itself never resends a POST): retries, backoff and failover live one
layer up, in `ReplicaSet` (`_replicas.py`), which every HTTP backend uses. Each error
says whether a retry is safe (`retryable`): only when the request cannot have reached a
model — the connection failed, or closed before the request was fully written.
Everything here runs on the portal loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..core import hooks
from ..core.errors import (
    BackendProtocolError,
    MelleaError,
    PoolTimeoutError,
)
from ._http_client import HttpClient, Route
from ._http_config import Cert, Verify, check_headers, with_injected
from ._http_errors import (
    BEFORE_ANSWER,
    IN_BODY,
    MID_STREAM,
    error_for,
    parse_retry_after,
    status_error,
)
from ._policy import (
    DEFAULT_MAX_CONCURRENCY,
    MAX_ERROR_BODY,
    STREAM_DRAIN_S,
    Timeout,
    make_timeout,
)
from ._slots import Slots

if TYPE_CHECKING:
    import aiohttp
    from yarl import URL

_RATE_LIMIT_HINT = (
    "the server is rate limiting: lower max_concurrency, or allow more retries (RetryPolicy)"
)


class _Default:
    """Marks "not given" where None means "no limit"."""


_DEFAULT = _Default()


class HttpEndpoint:
    """A base URL plus the policy for talking to it. Creates no connection until used.

    `timeout=` is per phase (see `_policy.Timeout`); `max_concurrency` bounds the
    requests in flight to this endpoint (None: unbounded) — more wait for a slot, in
    order. `status_hints` maps an HTTP status to advice appended to its error message.
    `client` is the backend's shared session; without one the endpoint makes its own
    from `headers`, `verify` and `cert`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        service: str,
        unavailable_hint: str = "",
        status_hints: Mapping[int, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | Timeout | None = None,
        max_concurrency: int | None = DEFAULT_MAX_CONCURRENCY,
        client: HttpClient | None = None,
        verify: Verify = True,
        cert: Cert = None,
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
        self.timeout = make_timeout(timeout)
        self.timeout_given = timeout is not None
        self.max_concurrency = max_concurrency
        if client is None:
            client = HttpClient(headers=headers, verify=verify, cert=cert)
        elif headers:
            raise ValueError("give headers to the shared HttpClient, not to each endpoint")
        self.client = client
        client.reserve(max_concurrency)
        self._route: Route | None = None
        self._routing: asyncio.Lock | None = None
        self._urls: dict[str, URL] = {}
        self._timeouts: dict[float | None, aiohttp.ClientTimeout] = {}
        self._slots: Slots | None = None
        self.in_flight = 0
        """Requests holding a slot (connecting, waiting for the answer, or streaming)."""
        self.waiting = 0
        """Requests queued for a slot."""

    # ----- plumbing -----------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """True while the HTTP session (and possibly pooled connections) exists."""
        return self.client.is_open

    async def aclose(self) -> None:
        """Close the session and its pooled connections (awaitable from any loop)."""
        self._route = None
        await self.client.aclose()

    def limiter_stats(self) -> dict[str, int]:
        """`limit` (0: none), `in_flight` (holding a slot), `waiting` (queued), `free`."""
        limit = self.max_concurrency or 0
        free = self._slots.free if self._slots is not None else limit
        return {"limit": limit, "in_flight": self.in_flight, "waiting": self.waiting, "free": free}

    def pool_stats(self) -> dict[str, int] | None:
        """The backend's connection pool (`open`, `idle`, `in_use`, `waiters`), if open."""
        return self.client.pool_stats()

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

    def _url(self, path: str) -> URL:
        url = self._urls.get(path)
        if url is None:
            from yarl import URL

            url = self._urls[path] = URL(self.base_url + path)
        return url

    def _client_timeout(self, read: float | None) -> aiohttp.ClientTimeout:
        timeout = self._timeouts.get(read)
        if timeout is None:
            import aiohttp

            # `connect` (which would include aiohttp's pool wait) stays unset: our slots
            # are the pool; `sock_connect` bounds TCP + TLS, `sock_read` every read wait.
            timeout = aiohttp.ClientTimeout(
                total=None, connect=None, sock_connect=self.timeout.connect, sock_read=read
            )
            self._timeouts[read] = timeout
        return timeout

    async def _get_route(self) -> Route:
        """Open the session (first request, or after `aclose`); once for all waiters."""
        if self._routing is None:
            self._routing = asyncio.Lock()
        async with self._routing:
            route = self._route
            if route is None or route.session.closed:
                route = self._route = await self.client.route(self.base_url)
            return route

    # ----- errors ----------------------------------------------------------------------

    def map_error(
        self, exc: BaseException, *, phase: str, sent: bool = True, read: float | None = None
    ) -> MelleaError:
        """`exc` as mellea's typed error for this endpoint (see `_http_errors.error_for`)."""
        return error_for(
            exc, where=self.where, hint=self.unavailable_hint, connect=self.timeout.connect,
            phase=phase, sent=sent, read=read,
        )  # fmt: skip

    # ----- one attempt --------------------------------------------------------------------

    async def _take_slot(self) -> None:
        """Wait for one of `max_concurrency` slots (pool timeout: PoolTimeoutError)."""
        slots = self._slots
        if slots is None and self.max_concurrency is not None:
            slots = self._slots = Slots(self.max_concurrency)
        if slots is not None:
            if not slots.busy():
                await slots.acquire()  # free: returns at once
            else:
                self.waiting += 1
                try:
                    async with asyncio.timeout(self.timeout.pool):
                        await slots.acquire()
                except TimeoutError:
                    raise PoolTimeoutError(
                        f"all {self.max_concurrency} request slots to {self.where} stayed busy "
                        f"for {self.timeout.pool:g} s (pool timeout); raise max_concurrency or "
                        "the pool timeout"
                    ) from None
                finally:
                    self.waiting -= 1
        self.in_flight += 1

    def _try_take_slot(self) -> bool:
        """Take a slot without waiting, if one is free (the usual case, on the hot path)."""
        slots = self._slots
        if slots is None:
            if self.max_concurrency is not None:
                return False  # made by `_take_slot`
        elif not slots.try_acquire():
            return False
        self.in_flight += 1
        return True

    def _give_slot(self) -> None:
        self.in_flight -= 1
        if self._slots is not None:
            self._slots.release()

    async def _send(
        self, path: str, content: bytes, read: float | None, headers: Mapping[str, str] | None
    ) -> aiohttp.ClientResponse:
        """Send the POST, return the 2xx response (head read, body not); typed errors.

        The caller holds a slot and must close the response."""
        extra = check_headers(headers, "headers") if headers else None
        inject = hooks.outbound_headers  # None unless an observer (tracing) is on
        if inject is not None:
            extra = with_injected(inject, extra)
        route = self._route
        if route is None or route.session.closed:
            route = await self._get_route()
        body = _request_body()(content, self.timeout.write)
        proxy = route.proxy
        try:
            response = await route.session.request(
                "POST", self._url(path), data=body, headers=extra,
                timeout=self._client_timeout(read), allow_redirects=False,
                proxy=proxy.url if proxy else None,
                proxy_headers=proxy.headers if proxy and proxy.headers else None,
                ssl=route.ssl,
            )  # fmt: skip
        except (OSError, _client_error()) as exc:  # (TimeoutError is an OSError)
            raise self.map_error(exc, phase=BEFORE_ANSWER, sent=body.sent, read=read) from None
        try:
            if response.status >= 300:
                try:
                    error = await status_error(response, self.service, self.status_hints)
                except (OSError, _client_error()) as exc:
                    raise self.map_error(exc, phase=IN_BODY, read=read) from None
                raise error
            _check_framing(response, self.where)
        except BaseException:
            response.close()
            raise
        return response

    async def post_json(
        self, path: str, content: bytes, *, headers: Mapping[str, str] | None = None
    ) -> Any:
        """POST `content` once and return the decoded JSON answer (the non-streaming call:
        one flat coroutine, no context managers, as it is the hot path)."""
        read = self.timeout.read
        if not self._try_take_slot():
            await self._take_slot()
        try:
            response = await self._send(path, content, read, headers)
            try:
                raw = await response.read()
            except (OSError, _client_error()) as exc:
                raise self.map_error(exc, phase=IN_BODY, read=read) from None
            finally:
                response.close()  # a no-op once the body was read (the connection is pooled)
        finally:
            self._give_slot()
        return self._decode(raw)

    @contextlib.asynccontextmanager
    async def open(
        self,
        path: str,
        content: bytes,
        *,
        read_timeout: float | _Default | None = _DEFAULT,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """POST `content` (JSON bytes) once; yield the 2xx response, its body still unread.

        Holds a concurrency slot until the caller is done with the body; leaving the block
        early (cancellation, an error, a `break`) closes the connection, so the server
        sees the disconnect. `read_timeout` (streaming: the per-chunk timeout) overrides
        the endpoint's read timeout; `headers` are this request's own (checked like the
        backend's). Raises a typed `MelleaError` for any failure.
        """
        read = self.timeout.read if isinstance(read_timeout, _Default) else read_timeout
        if not self._try_take_slot():
            await self._take_slot()
        try:
            response = await self._send(path, content, read, headers)
            setattr(response, _READ_TIMEOUT, read)  # for the errors of iter_lines/read_json
            try:
                yield response
                if not response.content.at_eof():
                    await _drain(response)  # keeps the connection for the next request
            finally:
                response.close()  # a no-op once the body was read (the connection is pooled)
        finally:
            self._give_slot()

    async def read_json(self, response: aiohttp.ClientResponse) -> Any:
        """The whole (non-streamed) body, decoded; typed errors for drops and bad JSON."""
        try:
            raw = await response.read()
        except (OSError, _client_error()) as exc:
            raise self.map_error(exc, phase=IN_BODY, read=_read_timeout(response)) from None
        return self._decode(raw)

    def _decode(self, raw: bytes) -> Any:
        try:
            return json.loads(raw.decode("utf-8"))
        except ValueError:
            raise BackendProtocolError(
                f"{self.where} sent a body that is not JSON: {raw[:200]!r}"
            ) from None

    async def iter_lines(self, response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
        """Non-empty lines of a streamed body, as they arrive; transport errors typed."""
        pending = b""
        try:
            async for chunk in response.content.iter_any():
                if pending:
                    chunk = pending + chunk
                if b"\n" not in chunk:
                    pending = chunk
                    continue
                *lines, pending = chunk.split(b"\n")
                for line in lines:
                    line = line.rstrip(b"\r")
                    if line:
                        yield line
        except (OSError, _client_error()) as exc:
            raise self.map_error(exc, phase=MID_STREAM, read=_read_timeout(response)) from None
        if pending.strip():
            yield pending.rstrip(b"\r")


_READ_TIMEOUT = "_mellea_read_timeout"


def _read_timeout(response: aiohttp.ClientResponse) -> float | None:
    value = getattr(response, _READ_TIMEOUT, None)
    return value if isinstance(value, int | float) else None


def _client_error() -> type[Exception]:
    import aiohttp

    return aiohttp.ClientError


_body_class: Any = None


def _request_body() -> Any:
    """`_http_body.RequestBody` (imported on first use: it needs aiohttp)."""
    global _body_class
    if _body_class is None:
        from ._http_body import RequestBody

        _body_class = RequestBody
    return _body_class


def _check_framing(response: aiohttp.ClientResponse, where: str) -> None:
    """Refuse a body in a transfer coding aiohttp would hand over still encoded."""
    coding = response.headers.get("Transfer-Encoding")
    if coding is not None and coding.strip().lower() != "chunked":
        raise BackendProtocolError(
            f"{where} framed its answer with Transfer-Encoding {coding!r}; only 'chunked' "
            "is supported (compression belongs in Content-Encoding)"
        )


async def _drain(response: aiohttp.ClientResponse) -> None:
    """Read what is left of a body the caller stopped reading at its last event, so the
    connection can be reused; give up (the connection is then closed) after a moment."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(STREAM_DRAIN_S):
            left = MAX_ERROR_BODY
            while left > 0 and not response.content.is_eof():
                piece = await response.content.readany()
                if not piece:
                    break
                left -= len(piece)


def decode_json_line(line: bytes, service: str) -> Any:
    """One NDJSON/SSE payload, or a typed protocol error naming the bad line."""
    try:
        return json.loads(line)
    except ValueError:
        raise BackendProtocolError(
            f"{service} sent a malformed stream line (not JSON): {line[:200]!r}"
        ) from None


__all__ = ["HttpEndpoint", "decode_json_line", "parse_retry_after"]
