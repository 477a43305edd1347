"""`ReplicaSet`: the routing and retry layer of the HTTP backends.

Every HTTP backend talks through one (Ollama: one endpoint; OpenAI-compatible servers:
one per replica URL). It is the only place that tries a request again:

* each request goes to the least-busy replica (fewest requests in flight or queued
  there, counted here at the moment of choosing); ties go round-robin, so an idle set
  is used evenly;
* a connection failure (refused, connect timeout, closed before the request was sent)
  makes the request fail over at once to another replica, and the failed replica is skipped for
  `REPLICA_COOLDOWN_S` while others are up;
* retryable failures (connection failures once every replica was tried, 408/409/429/5xx)
  follow the `RetryPolicy`; a connection dropped after the request was written is not
  retried (the server may have started generating: a retry could bill it twice); exponential backoff with jitter, `Retry-After` honoured up to
  a cap, never past the call's deadline, preferring another replica after a status error;
* nothing is retried once the response is handed to the caller — from then on output
  may be reaching the thunk.

Each attempt is one `HttpEndpoint.open` (one slot, one connection); no slot is held
while waiting between attempts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.errors import (
    BackendProtocolError,
    BackendStatusError,
    BackendUnavailableError,
    ConnectTimeoutError,
    InvalidOptionError,
    MelleaError,
    PoolTimeoutError,
)
from ..core.thunk import ModelOutputThunk
from ._http import _DEFAULT, HttpEndpoint, _Default
from ._policy import REPLICA_COOLDOWN_S, Retrier, RetryPolicy
from ._slots import Slots
from .model_options import ModelOption, ResolvedOptions

if TYPE_CHECKING:
    import aiohttp

logger = logging.getLogger("mellea")


@dataclass(frozen=True)
class Opened:
    """A 2xx response and the replica that sent it (for typed errors while reading it)."""

    endpoint: HttpEndpoint
    response: aiohttp.ClientResponse


def _connect_failure(error: MelleaError) -> bool:
    """The request never reached a server: another replica may well take it."""
    if isinstance(error, BackendProtocolError):
        return error.retryable  # closed before the request was sent
    return isinstance(error, BackendUnavailableError | ConnectTimeoutError)


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
"""Made once: `json.dumps` with options builds a new encoder on every call."""


def encode_payload(payload: Any) -> bytes:
    """The request body as JSON bytes; a value JSON cannot carry is the caller's mistake."""
    try:
        return _ENCODER.encode(payload).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidOptionError(
            f"the request cannot be sent as JSON ({exc}); check the model_options values"
        ) from None


_NONE_AVOIDED: set[int] = set()
"""The replicas to avoid before any attempt failed: none (shared; never added to)."""


class Admission:
    """The queue in front of a backend: at most `capacity` calls past it at once.

    Calls wait here *before* their request is built, so a queued call is just a parked
    coroutine (a few KB) rather than a half-built request chain; the endpoints' own slots
    then rarely contend. The endpoint's `pool` timeout bounds the wait.
    """

    __slots__ = ("_capacity", "_pool_timeout", "_sem", "_where", "admitted", "waiting")

    def __init__(self, capacity: int, pool_timeout: float | None, where: str) -> None:
        self._capacity = capacity
        self._pool_timeout = pool_timeout
        self._where = where
        self._sem: Slots | None = None  # made on first use, on the I/O loop
        self.admitted = 0
        self.waiting = 0

    def stats(self) -> dict[str, int]:
        """`capacity`, `admitted` (calls past the gate), `waiting` (queued at it)."""
        return {"capacity": self._capacity, "admitted": self.admitted, "waiting": self.waiting}

    async def __aenter__(self) -> None:
        if self.try_enter():
            return
        sem = self._sem
        assert sem is not None  # made by try_enter
        self.waiting += 1
        waiter = sem.queue()  # awaited here: no coroutine of its own per queued call
        try:
            if self._pool_timeout is None:
                await waiter
            else:
                async with asyncio.timeout(self._pool_timeout):
                    await waiter
        except BaseException as exc:
            sem.left_queue(waiter, failed=True)
            if isinstance(exc, TimeoutError):
                raise PoolTimeoutError(
                    f"all {self._capacity} request slots to {self._where} stayed busy for "
                    f"{self._pool_timeout:g} s (pool timeout); raise max_concurrency or the "
                    "pool timeout"
                ) from None
            raise
        finally:
            self.waiting -= 1
        sem.left_queue(waiter, failed=False)
        self.admitted += 1

    async def __aexit__(self, *exc_info: object) -> None:
        self.leave()

    def try_enter(self) -> bool:
        """Pass the gate now if it is open (no wait, no queue); then `leave()` after."""
        sem = self._sem
        if sem is None:
            sem = self._sem = Slots(self._capacity)
        if sem.try_acquire():
            self.admitted += 1
            return True
        return False

    def leave(self) -> None:
        assert self._sem is not None
        self.admitted -= 1
        self._sem.release()


class ReplicaSet:
    """Least-busy routing, failover and retries over endpoints that serve the same API."""

    def __init__(
        self,
        endpoints: Sequence[HttpEndpoint],
        *,
        retry: RetryPolicy | None = None,
        cooldown: float = REPLICA_COOLDOWN_S,
    ) -> None:
        if not endpoints:
            raise ValueError("a ReplicaSet needs at least one endpoint")
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise ValueError(f"retry must be a RetryPolicy, got {retry!r}")
        self.endpoints = list(endpoints)
        self.retry = retry or RetryPolicy()
        self.cooldown = cooldown
        self._busy = [0] * len(self.endpoints)
        self._down_until = [0.0] * len(self.endpoints)
        self._next = 0  # round-robin start for breaking ties
        limits = [ep.max_concurrency for ep in self.endpoints]
        self.admission: Admission | None = None
        if None not in limits:
            first = self.endpoints[0]
            self.admission = Admission(
                sum(limit for limit in limits if limit is not None),
                first.timeout.pool,
                first.where if len(self.endpoints) == 1 else f"{len(limits)} replicas",
            )

    @property
    def in_flight(self) -> int:
        """Requests in flight (or queued for a slot) across all replicas."""
        return sum(self._busy)

    @property
    def is_open(self) -> bool:
        """True while any replica has an HTTP client (connections may be pooled)."""
        return any(ep.is_open for ep in self.endpoints)

    def busy(self) -> list[int]:
        """Requests currently routed to each replica, in `endpoints` order."""
        return list(self._busy)

    async def aclose(self) -> None:
        """Close the backend's HTTP session(s) and their connections."""
        for ep in self.endpoints:
            await ep.aclose()

    def stream_read_timeout(self, options: ResolvedOptions) -> float | None:
        """The per-chunk timeout for a streaming call with `options` (see HttpEndpoint)."""
        explicit: float | _Default | None = _DEFAULT
        if ModelOption.STREAM_TIMEOUT in options.raw:
            explicit = options.stream_timeout
        return self.endpoints[0].stream_read_timeout(explicit)

    def _pick(self, avoid: set[int]) -> int:
        """The least-busy replica, preferring ones that are up and not in `avoid`."""
        n = len(self.endpoints)
        if n == 1:
            return 0
        now = time.monotonic()
        order = [(self._next + k) % n for k in range(n)]
        for candidates in (
            [i for i in order if i not in avoid and self._down_until[i] <= now],
            [i for i in order if i not in avoid],
            order,
        ):
            if candidates:
                # min() keeps the first of equals: ties go to the round-robin order.
                chosen = min(candidates, key=self._busy.__getitem__)
                self._next = (chosen + 1) % n
                return chosen
        raise AssertionError("unreachable: order is never empty")

    def _failed(self, i: int, error: MelleaError, avoid: set[int]) -> bool:
        """Book a failed attempt on replica `i`; True: fail over to another at once."""
        avoid.add(i)
        if _connect_failure(error):
            self._down_until[i] = time.monotonic() + self.cooldown
            if len(avoid) < len(self.endpoints):
                # Another replica may well be up: fail over now, without backoff.
                logger.info("%s; failing over to another replica", error)
                return True
        return False

    def _avoid_after(self, i: int, error: MelleaError) -> set[int]:
        # After a status error prefer another replica; after a whole round of
        # connection failures every replica is a candidate again.
        if len(self.endpoints) > 1 and isinstance(error, BackendStatusError):
            return {i}
        return set()

    def _served(self, i: int, mot: ModelOutputThunk[Any] | None) -> None:
        self._down_until[i] = 0.0
        if mot is not None and len(self.endpoints) > 1:
            mot.generation.extra["replica"] = self.endpoints[i].base_url

    @contextlib.asynccontextmanager
    async def open(
        self,
        path: str,
        payload: Any,
        mot: ModelOutputThunk[Any] | None = None,
        *,
        read_timeout: float | _Default | None = _DEFAULT,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[Opened]:
        """POST to a replica, retrying per the policy; yield the 2xx response (body unread).

        `retry` overrides the set's policy for this call (e.g. `NO_RETRY` when the caller
        falls back to another request form itself); `headers` are this call's own.
        Failures raised by the caller's block — the body's — are never retried.
        """
        content = encode_payload(payload)
        retrier = Retrier(retry or self.retry, mot)
        avoid: set[int] = set()
        while True:
            retrier.attempt()
            i = self._pick(avoid)
            ep = self.endpoints[i]
            error: MelleaError
            self._busy[i] += 1
            try:
                async with contextlib.AsyncExitStack() as stack:
                    try:
                        response = await stack.enter_async_context(
                            ep.open(path, content, read_timeout=read_timeout, headers=headers)
                        )
                    except MelleaError as e:
                        error = e
                    else:
                        self._served(i, mot)
                        yield Opened(ep, response)
                        return
            finally:
                self._busy[i] -= 1
            if self._failed(i, error, avoid):
                continue
            await retrier.backoff(error)  # sleeps, or raises the error / DeadlineExceeded
            avoid = self._avoid_after(i, error)

    async def post_json(
        self,
        path: str,
        payload: Any,
        mot: ModelOutputThunk[Any] | None,
        *,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """A non-streaming POST, returning the decoded JSON body (same retries as `open`;
        an error while reading the answer is never retryable, so never retried)."""
        content = encode_payload(payload)
        # The retry bookkeeping is made at the first failure: most calls never need it.
        retrier: Retrier | None = None
        avoid: set[int] = _NONE_AVOIDED
        if mot is not None:
            mot.generation.attempts = 1
        while True:
            if retrier is not None:
                retrier.attempt()
            i = self._pick(avoid)
            self._busy[i] += 1
            try:
                data = await self.endpoints[i].post_json(path, content, headers=headers)
            except MelleaError as e:
                error = e
            else:
                self._served(i, mot)
                return data
            finally:
                self._busy[i] -= 1
            if retrier is None:
                retrier = Retrier(retry or self.retry, mot)
                retrier.attempts = 1
                avoid = set()
            if self._failed(i, error, avoid):
                continue
            await retrier.backoff(error)
            avoid = self._avoid_after(i, error)


__all__ = ["Admission", "Opened", "ReplicaSet", "encode_payload"]
