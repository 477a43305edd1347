"""Timeout, retry and concurrency policy for HTTP backends — every constant in one place."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_CONNECT_TIMEOUT_S = 10.0
DEFAULT_READ_TIMEOUT_S = 600.0
"""Non-streaming calls: how long the server may think before answering."""
DEFAULT_MAX_RETRIES = 2
DEFAULT_BACKOFF_INITIAL_S = 0.5
DEFAULT_BACKOFF_MAX_S = 8.0
DEFAULT_RETRY_AFTER_CAP_S = 60.0
DEFAULT_MAX_CONCURRENCY = 64
"""In-flight requests per backend; more thunks queue (10,000 thunks never open 10,000 sockets)."""
RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
DEFAULT_SERVER_MAX_CONCURRENCY = 256
"""Per replica for OpenAI-compatible servers and LiteLLM: vLLM / SGLang batch hundreds of
sequences at once (256 was vLLM's default `max_num_seqs`), so a page of 256 concurrent
thunks goes out in one wave instead of four."""
REPLICA_COOLDOWN_S = 5.0
"""A replica that refused a connection is skipped for this long while others are up."""


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before trying a failed request again.

    Only failures before any output reached the thunk are retried: connection errors,
    connect timeouts and the statuses in `RETRYABLE_STATUS`. `Retry-After` is honoured up
    to `retry_after_cap`.
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_initial: float = DEFAULT_BACKOFF_INITIAL_S
    backoff_max: float = DEFAULT_BACKOFF_MAX_S
    retry_after_cap: float = DEFAULT_RETRY_AFTER_CAP_S

    def delay(self, attempt: int, retry_after: float | None, jitter: float) -> float:
        """Seconds to wait before retry number `attempt` (1-based); `jitter` in [0, 1)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_cap)
        base = min(self.backoff_initial * 2 ** (attempt - 1), self.backoff_max)
        return base * (0.5 + jitter / 2)  # "equal jitter": never less than half the backoff


NO_RETRY = RetryPolicy(max_retries=0)
