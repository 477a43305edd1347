"""`ReplicaSet`: several `HttpEndpoint`s serving the same model, used as one.

A user with N vLLM / SGLang / llama.cpp replicas passes N base URLs and needs no gateway:

* each request goes to the least-busy replica (fewest requests in flight or queued
  there, counted here at the moment of choosing); ties go round-robin, so an idle set
  is used evenly;
* a connection failure (refused, connect timeout) before any response makes the request
  fail over at once to another replica, and the failed replica is skipped for
  `REPLICA_COOLDOWN_S` while others are up;
* status errors (429, 5xx, ...) follow the retry policy, preferring another replica.

With one endpoint it is a pass-through to that endpoint (its own retry loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from ..core.errors import (
    BackendProtocolError,
    BackendStatusError,
    BackendUnavailableError,
    ConnectTimeoutError,
    MelleaError,
)
from ..core.thunk import ModelOutputThunk
from ._http import _DEFAULT, HttpEndpoint, _Default
from ._policy import NO_RETRY, REPLICA_COOLDOWN_S, RETRYABLE_STATUS, RetryPolicy

logger = logging.getLogger("mellea")


@dataclass(frozen=True)
class Opened:
    """A 2xx response and the replica that sent it (for typed errors while reading it)."""

    endpoint: HttpEndpoint
    response: httpx.Response


def _connect_failure(error: MelleaError) -> bool:
    return isinstance(error, BackendUnavailableError | ConnectTimeoutError)


def _retryable(error: MelleaError) -> bool:
    if isinstance(error, BackendStatusError):
        return error.status_code in RETRYABLE_STATUS
    return _connect_failure(error)


class ReplicaSet:
    """Least-busy routing with failover over endpoints that serve the same API."""

    def __init__(
        self,
        endpoints: Sequence[HttpEndpoint],
        *,
        retry: RetryPolicy | None = None,
        cooldown: float = REPLICA_COOLDOWN_S,
    ) -> None:
        if not endpoints:
            raise ValueError("a ReplicaSet needs at least one endpoint")
        self.endpoints = list(endpoints)
        self.retry = retry or RetryPolicy()
        self.cooldown = cooldown
        self._busy = [0] * len(self.endpoints)
        self._down_until = [0.0] * len(self.endpoints)
        self._next = 0  # round-robin start for breaking ties

    @property
    def in_flight(self) -> int:
        """Requests in flight (or queued for a slot) across all replicas."""
        return sum(ep.in_flight for ep in self.endpoints)

    def busy(self) -> list[int]:
        """Requests currently routed to each replica, in `endpoints` order."""
        return list(self._busy)

    async def aclose(self) -> None:
        for ep in self.endpoints:
            await ep.aclose()

    def _pick(self, avoid: set[int]) -> int:
        """The least-busy replica, preferring ones that are up and not in `avoid`."""
        n = len(self.endpoints)
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

    @contextlib.asynccontextmanager
    async def open(
        self,
        path: str,
        payload: Any,
        mot: ModelOutputThunk[Any] | None = None,
        *,
        read_timeout: float | _Default | None = _DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> AsyncIterator[Opened]:
        """POST to one replica; yield its 2xx response (body unread) with the replica."""
        if len(self.endpoints) == 1:
            ep = self.endpoints[0]
            async with ep.open(path, payload, mot, read_timeout=read_timeout, retry=retry) as r:
                yield Opened(ep, r)
            return
        policy = retry or self.retry
        n = len(self.endpoints)
        attempt = retries = 0
        avoid: set[int] = set()
        while True:
            attempt += 1
            i = self._pick(avoid)
            ep = self.endpoints[i]
            error: MelleaError
            self._busy[i] += 1
            try:
                async with contextlib.AsyncExitStack() as stack:
                    try:
                        response = await stack.enter_async_context(
                            ep.open(path, payload, mot, read_timeout=read_timeout, retry=NO_RETRY)
                        )
                    except (BackendStatusError, BackendUnavailableError, ConnectTimeoutError) as e:
                        error = e
                    else:
                        self._down_until[i] = 0.0
                        if mot is not None:
                            mot.generation.attempts = attempt
                            mot.generation.extra["replica"] = ep.base_url
                        yield Opened(ep, response)
                        return
            finally:
                self._busy[i] -= 1
            avoid.add(i)
            if _connect_failure(error):
                self._down_until[i] = time.monotonic() + self.cooldown
                if len(avoid) < n:
                    # Another replica may well be up: fail over now, without backoff.
                    logger.info("%s; failing over to another replica", error)
                    continue
            retries += 1
            if retries > policy.max_retries or not _retryable(error):
                raise error
            delay = policy.delay(retries, getattr(error, "retry_after", None), random.random())
            logger.info("%s; retrying in %.2f s", error, delay)
            await asyncio.sleep(delay)
            # After a status error prefer another replica; after a whole round of
            # connection failures every replica is a candidate again.
            avoid = {i} if n > 1 and not _connect_failure(error) else set()

    async def post_json(
        self,
        path: str,
        payload: Any,
        mot: ModelOutputThunk[Any],
        *,
        retry: RetryPolicy | None = None,
    ) -> Any:
        """A non-streaming POST to one replica, returning the decoded JSON body."""
        import json

        async with self.open(path, payload, mot, retry=retry) as opened:
            try:
                raw = await opened.response.aread()
            except httpx.HTTPError as exc:
                raise opened.endpoint.map_error(exc, phase="while sending its answer") from None
        try:
            return json.loads(raw)
        except ValueError:
            service = opened.endpoint.service
            raise BackendProtocolError(
                f"{service} sent a body that is not JSON: {raw[:200]!r}"
            ) from None


__all__ = ["Opened", "ReplicaSet"]
