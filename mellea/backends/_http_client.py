"""`HttpClient`: one backend's aiohttp `ClientSession`, on mellea's I/O loop.

One session per backend (shared by its replicas): the backend's TLS settings, default
headers and connection pool live together and close together (`aclose`, or when the
backend is garbage-collected, or at interpreter exit). The session is created on first
use, on the portal loop — never in a constructor, never per call.

Settings a session is made with, and why:

* `TCPConnector(limit=...)`: the sum of the endpoints' request slots (plus headroom for
  connections being closed), so aiohttp's pool never queues a request our slots admitted;
  idle connections are closed after `KEEPALIVE_S` (see `_policy.py`).
* no cookie jar (LLM APIs do not use cookies; a jar costs time on every request);
* proxies and TLS resolved once, here, in a worker thread: the environment's proxy
  (HTTP_PROXY/HTTPS_PROXY/ALL_PROXY/NO_PROXY, see `_http_config.proxy_from_env`) is
  passed to each request. aiohttp's own `trust_env=True` would do the same lookup in a
  worker thread on *every* request (and ignores ALL_PROXY), which halves the request rate.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._runtime.portal import get_portal
from ._http_config import Cert, Proxy, Verify, check_headers, proxy_from_env, ssl_context
from ._policy import KEEPALIVE_S

if TYPE_CHECKING:
    import ssl

    import aiohttp

logger = logging.getLogger("mellea")

_UNBOUNDED_CONNECTIONS = 1000
"""Connection cap of a client whose endpoints have no request-slot limit."""


@dataclass(frozen=True)
class Route:
    """How requests to one base URL go out: the open session, its proxy and TLS settings."""

    session: aiohttp.ClientSession
    proxy: Proxy | None
    ssl: ssl.SSLContext | bool


class HttpClient:
    """The HTTP session of one backend: default headers, TLS, proxies, connection pool.

    `headers` are checked here (`check_headers`); `verify` / `cert` configure TLS for
    https URLs. Creates nothing until the first request.
    """

    def __init__(
        self,
        *,
        headers: Mapping[str, str] | None = None,
        verify: Verify = True,
        cert: Cert = None,
    ) -> None:
        from ._http_config import check_tls_options

        check_tls_options(verify, cert)
        self.headers = {"Content-Type": "application/json", **check_headers(headers, "headers")}
        self.verify = verify
        self.cert = cert
        self.connection_limit = 0
        self._session: aiohttp.ClientSession | None = None
        self._opening: asyncio.Future[aiohttp.ClientSession] | None = None
        self._ssl: ssl.SSLContext | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    def reserve(self, max_concurrency: int | None) -> None:
        """Count an endpoint's request slots into the connection limit."""
        self.connection_limit += max_concurrency or _UNBOUNDED_CONNECTIONS

    @property
    def is_open(self) -> bool:
        return self._session is not None

    async def route(self, base_url: str) -> Route:
        """Open the session if needed; the route for `base_url` (environment read now)."""
        session = self._session or await self._open()
        https = base_url.startswith("https:")
        if https and self._ssl is None:
            self._ssl = await asyncio.to_thread(ssl_context, self.verify, self.cert)
        proxy = await asyncio.to_thread(proxy_from_env, base_url)
        return Route(session, proxy, self._ssl if https and self._ssl is not None else True)

    async def _open(self) -> aiohttp.ClientSession:
        if self._opening is not None:  # another request is opening it: share the result
            return await asyncio.shield(self._opening)
        self._opening = asyncio.get_running_loop().create_future()
        try:
            await _import_aiohttp()
            import aiohttp

            connector = aiohttp.TCPConnector(
                limit=self.connection_limit + 16, keepalive_timeout=KEEPALIVE_S
            )
            session: aiohttp.ClientSession = aiohttp.ClientSession(
                connector=connector,
                headers=self.headers,
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,  # the proxy is resolved once per route, see above
            )
        except BaseException as exc:
            self._opening.set_exception(exc)
            self._opening.exception()  # retrieved: sharers re-raise it, nobody logs it
            self._opening = None
            raise
        loop = asyncio.get_running_loop()
        self._session = session
        _open_sessions[session] = loop
        self._finalizer = weakref.finalize(self, _close_orphan, session, loop)
        self._finalizer.atexit = False  # at exit, _close_all_at_exit closes what is left
        self._opening.set_result(session)
        self._opening = None
        return session

    def pool_stats(self) -> dict[str, int] | None:
        """The connection pool as aiohttp sees it: `open`, `idle`, `in_use`, `waiters`.

        None before the first request. (Read from the connector's own bookkeeping.)
        """
        session = self._session
        connector: Any = session.connector if session is not None else None
        if connector is None:
            return None
        try:
            idle = sum(len(conns) for conns in connector._conns.values())
            in_use = len(connector._acquired)
            waiters = sum(len(w) for w in connector._waiters.values())
        except AttributeError:  # another aiohttp version's internals: say nothing
            return None
        return {"open": idle + in_use, "idle": idle, "in_use": in_use, "waiters": waiters}

    async def aclose(self) -> None:
        """Close the session and its connections (awaitable from any loop or thread)."""
        session, self._session = self._session, None
        if session is None:
            return
        if self._finalizer is not None:
            self._finalizer.detach()
        portal = get_portal()
        if portal.on_portal_thread():
            await _close(session)
        else:
            # The connections belong to the portal loop: close them there.
            closing = asyncio.run_coroutine_threadsafe(_close(session), portal.loop)
            await asyncio.wrap_future(closing)


async def _import_aiohttp() -> None:
    """aiohttp, imported in a worker thread the first time: the import takes 0.1-0.3 s
    (it builds TLS contexts), too long to block the I/O loop and too long for
    `import mellea` or a backend's constructor to pay up front."""
    import sys

    module = sys.modules.get("aiohttp")
    if module is None or getattr(module, "ClientSession", None) is None:
        import importlib

        await asyncio.to_thread(importlib.import_module, "aiohttp")


# ----- closing sessions nobody closed ---------------------------------------------------

_open_sessions: dict[aiohttp.ClientSession, asyncio.AbstractEventLoop] = {}
"""Sessions not closed yet, with their loop (kept alive until closed, so none is
garbage-collected open: aiohttp would log an "Unclosed client session" error)."""


async def _close(session: aiohttp.ClientSession) -> None:
    try:
        await session.close()
    finally:
        _open_sessions.pop(session, None)


def _close_orphan(session: aiohttp.ClientSession, loop: asyncio.AbstractEventLoop) -> None:
    """A backend was dropped without `aclose()`: close its session on its loop."""
    if loop.is_closed():
        return
    try:
        loop.call_soon_threadsafe(_spawn_close, session)
    except RuntimeError:  # the loop closed meanwhile (interpreter exit)
        pass


_closing: set[asyncio.Task[None]] = set()


def _spawn_close(session: aiohttp.ClientSession) -> None:
    task = asyncio.get_running_loop().create_task(_close(session))
    _closing.add(task)
    task.add_done_callback(_closing.discard)


def _close_all_at_exit() -> None:
    """Close what is still open before the portal shuts down (runs before it: atexit
    handlers run last-registered first, and the portal registered when imported)."""
    for session, loop in list(_open_sessions.items()):
        if loop.is_closed() or get_portal().on_portal_thread():
            continue
        try:
            asyncio.run_coroutine_threadsafe(_close(session), loop).result(2.0)
        except (concurrent.futures.TimeoutError, RuntimeError):
            logger.debug("an HTTP session did not close at exit")


atexit.register(_close_all_at_exit)

__all__ = ["HttpClient", "Route"]
