"""Timeout, retry and concurrency policy for the backends — every constant in one place,
the per-phase `Timeout`, the one implementation of "may this call try again, and when"
(`Retrier`) and of the per-call deadline (`call_deadline`, `time_left`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.errors import (
    TRANSIENT_STATUS,
    BackendError,
    BackendStatusError,
    DeadlineExceededError,
    MelleaError,
)

if TYPE_CHECKING:
    from ..core.thunk import ModelOutputThunk

logger = logging.getLogger("mellea")

DEFAULT_CONNECT_TIMEOUT_S = 10.0
DEFAULT_READ_TIMEOUT_S = 600.0
"""Non-streaming calls: how long the server may think before answering."""
DEFAULT_MAX_RETRIES = 2
DEFAULT_BACKOFF_INITIAL_S = 0.5
DEFAULT_BACKOFF_MAX_S = 8.0
DEFAULT_RETRY_AFTER_CAP_S = 60.0
"""A server asking for a longer pause than this is waited for this long at most."""
DEFAULT_MAX_CONCURRENCY = 64
"""In-flight requests per backend; more thunks queue (10,000 thunks never open 10,000 sockets)."""
RETRYABLE_STATUS = TRANSIENT_STATUS
DEFAULT_SERVER_MAX_CONCURRENCY = 256
"""Per replica for OpenAI-compatible servers and LiteLLM: vLLM / SGLang batch hundreds of
sequences at once (256 was vLLM's default `max_num_seqs`), so a page of 256 concurrent
thunks goes out in one wave instead of four."""
REPLICA_COOLDOWN_S = 5.0
"""A replica that refused a connection is skipped for this long while others are up."""
KEEPALIVE_S = 4.0
"""An idle pooled connection is closed after this long: just under the 5 s after which
uvicorn (vLLM, SGLang) and llama.cpp's server close idle connections themselves, so a
request is never written onto a connection the server is closing at that moment (such a
request could not be retried safely: the server might have read it)."""
STREAM_DRAIN_S = 1.0
"""After a stream's last event, how long the end of the HTTP body may take to arrive
before the connection is closed rather than pooled."""
MAX_ERROR_BODY = 64 * 1024
"""Bytes of an error response kept on `BackendStatusError.body`."""


@dataclass(frozen=True)
class Timeout:
    """Seconds allowed for each phase of an HTTP request (None: no limit).

    `connect`: opening the connection (TCP and TLS); `read`: every wait for data — the
    answer's head, each piece of a body, each streamed chunk; `write`: every wait while
    sending the request body; `pool`: the wait for one of the backend's request slots.
    `Timeout(5.0)` sets connect (capped at 10 s), read and write to 5 s and leaves the
    slot wait unbounded (queued thunks wait their turn; `ModelOption.TIMEOUT` bounds a
    whole call). An `httpx.Timeout` works too (same fields).
    """

    timeout: float | None = DEFAULT_READ_TIMEOUT_S
    connect: float | None = None
    read: float | None = None
    write: float | None = None
    pool: float | None = None

    def __post_init__(self) -> None:
        base = self.timeout
        _check_seconds("timeout", base)
        for name, default in (
            ("connect", None if base is None else min(base, DEFAULT_CONNECT_TIMEOUT_S)),
            ("read", base),
            ("write", base),
        ):
            value = getattr(self, name)
            object.__setattr__(self, name, default if value is None else value)
        for name in ("connect", "read", "write", "pool"):
            _check_seconds(name, getattr(self, name))


def _check_seconds(name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"timeout {name} must be a positive number of seconds, got {value!r}")


def make_timeout(timeout: object) -> Timeout:
    """`timeout=` as backends accept it: seconds for every phase, a `Timeout`, or any
    object with `connect`/`read`/`write`/`pool` attributes (an `httpx.Timeout`)."""
    if isinstance(timeout, Timeout):
        return timeout
    if timeout is None:
        return Timeout(DEFAULT_READ_TIMEOUT_S, connect=DEFAULT_CONNECT_TIMEOUT_S)
    if all(hasattr(timeout, k) for k in ("connect", "read", "write", "pool")):
        t: Any = timeout
        return Timeout(None, connect=t.connect, read=t.read, write=t.write, pool=t.pool)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return Timeout(float(timeout))


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before trying a failed request again.

    Only failures before any output reached the thunk are retried: connection errors,
    connect timeouts, connections dropped before an answer, and the statuses in
    `retry_statuses`. Waits grow exponentially from `backoff_initial` up to `backoff_max`
    with "equal jitter" (half fixed, half random, so a crowd of clients spreads out);
    a `Retry-After` header is honoured exactly, up to `retry_after_cap`. No wait ever
    runs past the call's deadline (`ModelOption.TIMEOUT`).
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_initial: float = DEFAULT_BACKOFF_INITIAL_S
    backoff_max: float = DEFAULT_BACKOFF_MAX_S
    retry_after_cap: float = DEFAULT_RETRY_AFTER_CAP_S
    retry_statuses: frozenset[int] = RETRYABLE_STATUS

    def __post_init__(self) -> None:
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int):
            raise ValueError(f"max_retries must be an int, got {self.max_retries!r}")
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")
        for name in ("backoff_initial", "backoff_max", "retry_after_cap"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}")
        object.__setattr__(self, "retry_statuses", frozenset(self.retry_statuses))

    def delay(self, attempt: int, retry_after: float | None, jitter: float) -> float:
        """Seconds to wait before retry number `attempt` (1-based); `jitter` in [0, 1)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_cap)
        base = min(self.backoff_initial * 2.0 ** (attempt - 1), self.backoff_max)
        return base * (0.5 + jitter / 2)  # "equal jitter": never less than half the backoff

    def should_retry(self, error: MelleaError) -> bool:
        """Whether `error` is worth another attempt (ignoring the attempts left)."""
        if isinstance(error, BackendStatusError):
            return error.status_code in self.retry_statuses
        return isinstance(error, BackendError) and error.retryable


NO_RETRY = RetryPolicy(max_retries=0)


# ----- the per-call deadline ------------------------------------------------------------

_deadline: ContextVar[float | None] = ContextVar("mellea_call_deadline", default=None)


def time_left() -> float | None:
    """Seconds until the current call's deadline (None: it has none); may be negative."""
    when = _deadline.get()
    return None if when is None else when - asyncio.get_running_loop().time()


@contextlib.asynccontextmanager
async def call_deadline(seconds: float | None) -> AsyncIterator[None]:
    """Run the block under a deadline (`ModelOption.TIMEOUT`; None: no deadline).

    Past it the block is cancelled — an HTTP request in flight is aborted — and
    `DeadlineExceededError` raised. Inside, `time_left()` tells the retry layer how long
    remains, so that it fails at once rather than sleep past the deadline.
    """
    if seconds is None:
        yield
        return
    loop = asyncio.get_running_loop()
    when = loop.time() + seconds
    outer = _deadline.get()
    token = _deadline.set(when if outer is None else min(when, outer))
    scope = asyncio.timeout_at(when)
    try:
        async with scope:
            yield
    except TimeoutError:
        if not scope.expired():
            raise  # a timeout of the call itself (ReadTimeoutError, ...), not ours
        raise DeadlineExceededError(
            f"the call did not finish within its {seconds:g} s deadline (ModelOption.TIMEOUT); "
            "raise it or ask for fewer tokens (the text so far is in partial_output)"
        ) from None
    finally:
        _deadline.reset(token)


# ----- retries ----------------------------------------------------------------------------


class Retrier:
    """The retry bookkeeping of one call; the backends' only retry logic.

    A caller loops: `retrier.attempt()` before each try, and after a failed one
    `await retrier.backoff(error)`, which either sleeps until the next try or raises —
    the error itself (not retryable, attempts used up, or output already reached the
    thunk) or `DeadlineExceededError` when the wait would pass the call's deadline.
    """

    def __init__(self, policy: RetryPolicy, mot: ModelOutputThunk[Any] | None = None) -> None:
        self.policy = policy
        self.mot = mot
        self.attempts = 0
        self.retries = 0

    def attempt(self) -> int:
        """Count one more try (recorded on the thunk as `generation.attempts`)."""
        self.attempts += 1
        if self.mot is not None:
            self.mot.generation.attempts = self.attempts
        return self.attempts

    async def backoff(self, error: MelleaError) -> None:
        """Wait before the next attempt after `error`, or raise."""
        mot = self.mot
        if mot is not None and (mot.partial_value or mot.tool_calls):
            raise error  # output reached the thunk: resending would duplicate it
        if self.retries >= self.policy.max_retries or not self.policy.should_retry(error):
            if self.attempts > 1 and error.args:
                error.args = (f"{error.args[0]} (gave up after {self.attempts} attempts)",)
            raise error
        self.retries += 1
        retry_after = getattr(error, "retry_after", None)
        delay = self.policy.delay(self.retries, retry_after, random.random())
        left = time_left()
        if left is not None and delay >= left:
            raise DeadlineExceededError(
                f"{error}; the next attempt (in {delay:.2f} s) would start after the call's "
                f"deadline ({max(left, 0.0):.2f} s left), so the call fails now "
                "(ModelOption.TIMEOUT)"
            ) from error
        logger.info("%s; retrying in %.2f s", error, delay)
        await asyncio.sleep(delay)


__all__ = [
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_SERVER_MAX_CONCURRENCY",
    "NO_RETRY",
    "RETRYABLE_STATUS",
    "Retrier",
    "RetryPolicy",
    "Timeout",
    "call_deadline",
    "make_timeout",
    "time_left",
]
