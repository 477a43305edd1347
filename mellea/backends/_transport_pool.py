"""Connection pool for :mod:`mellea.backends._transport`.

Slots, not sockets, are the unit of accounting: ``_slots`` counts every connection that
exists or is being opened, idle or in use, and never exceeds ``max_connections``. A
request that finds no free slot queues as a ``Future`` in one FIFO deque. Releasing a
connection hands it (or, for a waiter of another host, its slot) directly to the oldest
live waiter, so a freed slot can neither be lost nor stolen by a newcomer, and no
request waits longer than one that came after it.

Invariant: requests only queue while no connection is idle (an idle connection of
another host would be evicted instead), and a released connection is handed to a
waiter before it could become idle.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from functools import partial
from typing import Any

import httpx

from ._transport_conn import Connection, Key

__all__ = ["ConnectionPool"]

_TIMED_OUT = object()  # pool-wait result meaning "pool timeout expired"
_CLOSED = object()  # pool-wait result meaning "the pool was closed while waiting"
_Grant = Connection | None  # a pooled connection, or None = "you own a free slot"


class ConnectionPool:
    """Bounded keep-alive pool shared by all hosts of one transport (one event loop)."""

    def __init__(
        self,
        *,
        max_connections: int,
        max_keepalive: int,
        keepalive_expiry: float,
        ssl_context: ssl.SSLContext | None,
        connect_retries: int,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be >= 1")
        self._max_connections = max_connections
        self._max_keepalive = max(0, max_keepalive)
        self._keepalive_expiry = keepalive_expiry
        self._ssl_context = ssl_context
        self._connect_retries = max(0, connect_retries)
        self.closed = False
        self._conns: set[Connection] = set()  # every established connection we own
        self._slots = 0  # connections counted against max_connections (incl. connecting)
        self._idle: dict[Key, list[Connection]] = {}  # per key, oldest first
        self._n_idle = 0
        self._waiters: deque[tuple[Key, asyncio.Future[Any]]] = deque()
        self._n_waiting = 0
        self._sweeper: asyncio.TimerHandle | None = None  # expires idle connections
        self._sweeper_loop: asyncio.AbstractEventLoop | None = None

    def stats(self) -> dict[str, int]:
        return {
            "open": len(self._conns),
            "idle": self._n_idle,
            "in_use": self._slots - self._n_idle,
            "waiters": self._n_waiting,
        }

    def close(self) -> None:
        """Close every connection, idle or in use, and fail queued requests."""
        if self.closed:
            return
        self.closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for conn in list(self._conns):
            conn.close()
        self._conns.clear()
        for conns in self._idle.values():
            for conn in conns:
                conn.idle = False
        self._idle.clear()
        self._slots -= self._n_idle
        self._n_idle = 0
        while self._waiters:
            _, fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(_CLOSED)

    async def acquire(
        self, key: Key, request: httpx.Request, timeouts: dict[str, float | None], fresh: bool
    ) -> Connection:
        """A connection for ``key``: idle, freshly opened, or handed over by a release
        while queued. ``fresh`` skips idle connections (used for the stale retry)."""
        if self.closed:
            raise RuntimeError("FastAsyncTransport is closed")
        if not fresh:
            conn = self.pop_idle(key)
            if conn is not None:
                return conn
        if self._slots < self._max_connections:
            self._slots += 1
        elif self._n_idle:
            self._evict_oldest_idle()  # keeps the slot for us
        else:
            grant = await self._wait_for_slot(key, request, timeouts.get("pool"))
            if grant is not None:
                if grant.usable():
                    return grant
                self._forget(grant)  # died while being handed over; keep its slot
        try:
            return await self._connect(key, timeouts.get("connect"), request)
        except BaseException:
            self._free_slot()
            raise

    async def _wait_for_slot(
        self, key: Key, request: httpx.Request, timeout: float | None
    ) -> _Grant:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        self._waiters.append((key, fut))
        self._n_waiting += 1
        timer = None
        if timeout is not None:
            timer = loop.call_later(timeout, _set_if_pending, fut, _TIMED_OUT)
        try:
            grant = await fut
        except BaseException:
            # Cancelled: if a grant was handed over in the meantime, pass it on.
            if fut.done() and not fut.cancelled():
                self._return_grant(fut.result())
            raise
        finally:
            self._n_waiting -= 1
            if timer is not None:
                timer.cancel()
        if grant is _TIMED_OUT:
            raise httpx.PoolTimeout("timed out waiting for a free connection", request=request)
        if grant is _CLOSED:
            raise RuntimeError("FastAsyncTransport is closed")
        assert grant is None or isinstance(grant, Connection)
        return grant

    def _return_grant(self, grant: object) -> None:
        if isinstance(grant, Connection):
            self.release(grant, grant.usable())
        elif grant is None:
            self._free_slot()

    async def _connect(self, key: Key, timeout: float | None, request: httpx.Request) -> Connection:
        loop = asyncio.get_running_loop()
        tls, host, port = key
        ssl_context = self._get_ssl_context() if tls else None
        factory = partial(Connection, loop, key, self._on_idle_lost)
        error: httpx.TransportError | None = None
        for attempt in range(self._connect_retries + 1):
            if attempt:
                await asyncio.sleep(min(0.5 * 2 ** (attempt - 1), 8.0))
            try:
                async with asyncio.timeout(timeout):
                    _, conn = await loop.create_connection(
                        factory, host, port, ssl=ssl_context, server_hostname=host if tls else None
                    )
            except TimeoutError:
                error = httpx.ConnectTimeout(f"timed out connecting to {host}:{port}")
                continue
            except OSError as exc:  # includes refused, unreachable, DNS and TLS errors
                error = httpx.ConnectError(f"{type(exc).__name__}: {exc}", request=request)
                continue
            if self.closed:
                conn.close()
                raise RuntimeError("FastAsyncTransport is closed")
            self._conns.add(conn)
            return conn
        assert error is not None
        error.request = request
        raise error

    def _get_ssl_context(self) -> ssl.SSLContext:
        # Created lazily: building the default context loads the CA bundle (~ms).
        if self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context()
        return self._ssl_context

    def release(self, conn: Connection, reusable: bool) -> None:
        """Give back a connection from ``pop_idle``/``acquire``, and with it its slot.

        ``reusable`` means the exchange on it completed cleanly; the connection is then
        handed to a waiter or parked idle, otherwise it is closed."""
        if not reusable or self.closed or not conn.usable():
            self._forget(conn)
            self._free_slot()
            return
        while self._waiters:  # hand over directly: FIFO fairness, no thundering herd
            key, fut = self._waiters.popleft()
            if fut.done():
                continue  # timed out or cancelled
            if key == conn.key:
                fut.set_result(conn)
            else:  # oldest waiter wants another host: trade this connection for a slot
                self._forget(conn)
                fut.set_result(None)
            return
        if self._n_idle >= self._max_keepalive:
            self._forget(conn)
            self._slots -= 1
            return
        conn.idle = True
        conn.idle_since = conn.loop.time()
        self._idle.setdefault(conn.key, []).append(conn)
        self._n_idle += 1
        if self._sweeper is None or self._sweeper_loop is not conn.loop:
            self._sweeper = conn.loop.call_later(self._keepalive_expiry, self._sweep)
            self._sweeper_loop = conn.loop

    def _free_slot(self) -> None:
        while self._waiters:
            _, fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)  # the slot moves to the waiter
                return
        self._slots -= 1

    def _forget(self, conn: Connection) -> None:
        conn.close()
        self._conns.discard(conn)

    def pop_idle(self, key: Key) -> Connection | None:
        """An idle live connection for ``key`` or None; synchronous (the hot path)."""
        conns = self._idle.get(key)
        if not conns:
            return None
        loop = asyncio.get_running_loop()
        now = loop.time()
        while conns:
            conn = conns.pop()  # most recently used first: least likely to be stale
            self._n_idle -= 1
            conn.idle = False
            # conn.loop check: a pool carried across asyncio.run() calls must not hand
            # out connections of a dead loop.
            if (
                conn.loop is loop
                and conn.usable()
                and now - conn.idle_since < self._keepalive_expiry
            ):
                return conn
            self._forget(conn)
            self._free_slot()
        return None

    def _evict_oldest_idle(self) -> None:
        key = min(
            (k for k, conns in self._idle.items() if conns),
            key=lambda k: self._idle[k][0].idle_since,
        )
        conn = self._idle[key].pop(0)
        conn.idle = False
        self._n_idle -= 1
        self._forget(conn)

    def _on_idle_lost(self, conn: Connection) -> None:
        """An idle connection was closed by the peer: drop it right away."""
        conns = self._idle.get(conn.key)
        conn.idle = False
        if conns is not None and conn in conns:
            conns.remove(conn)
            self._n_idle -= 1
            self._conns.discard(conn)
            self._free_slot()

    def _sweep(self) -> None:
        """Timer callback: close idle connections past their expiry, then re-arm for
        the next one to expire. One timer per transport, none while nothing is idle."""
        self._sweeper = None
        if self.closed:
            return
        expiry = self._keepalive_expiry
        loop = asyncio.get_running_loop()
        now = loop.time()
        next_due: float | None = None
        for conns in self._idle.values():
            while conns and now - conns[0].idle_since >= expiry:
                conn = conns.pop(0)
                conn.idle = False
                self._n_idle -= 1
                self._forget(conn)
                self._free_slot()
            if conns and (next_due is None or conns[0].idle_since < next_due):
                next_due = conns[0].idle_since
        if next_due is not None:
            self._sweeper = loop.call_at(next_due + expiry, self._sweep)


def _set_if_pending(fut: asyncio.Future[Any], value: object) -> None:
    if not fut.done():
        fut.set_result(value)
