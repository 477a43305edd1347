"""How a failed HTTP attempt is reported: aiohttp's and the socket's exceptions as
mellea's typed errors with advice, an error status as `BackendStatusError`, and the one
rule for whether a failure may be retried — only when the request cannot have reached a
model (the connection failed, or closed before the request was fully written)."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..core.errors import (
    BackendError,
    BackendProtocolError,
    BackendStatusError,
    BackendUnavailableError,
    ConnectTimeoutError,
    MelleaError,
    RateLimitedError,
    ReadTimeoutError,
    WriteTimeoutError,
)
from ._policy import MAX_ERROR_BODY

if TYPE_CHECKING:
    import aiohttp

BEFORE_ANSWER = "before answering"
MID_STREAM = "mid-stream"
IN_BODY = "while sending its answer"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or an HTTP date), if valid."""
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


def _secs(value: float | None) -> str:
    return "" if value is None else f" {value:g} s"


def error_for(
    exc: BaseException,
    *,
    where: str,
    hint: str,
    connect: float | None,
    phase: str,
    sent: bool,
    read: float | None,
) -> MelleaError:
    """`exc` (from aiohttp or the socket) as mellea's typed error.

    `where` names the server, `hint` is advice for an unreachable one; `phase` is
    `BEFORE_ANSWER`, `MID_STREAM` or `IN_BODY`; `sent` says whether the whole request had
    been written, `connect`/`read` which timeouts applied. A connection that failed
    before the request was written is safe to try again (`retryable`); once the server
    may have read the request it is not — a second attempt could generate (and bill)
    the answer twice.
    """
    import aiohttp

    from ._http_body import WriteStalled

    hint = f" — {hint}" if hint else ""
    if isinstance(exc, WriteStalled):
        return WriteTimeoutError(f"{where} stopped accepting the request for{_secs(exc.seconds)}")
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return ConnectTimeoutError(
            f"connecting to {where} took longer than{_secs(connect)} (connect timeout){hint}"
        )
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        error = BackendUnavailableError(
            f"the TLS certificate of {where} failed verification ({exc.certificate_error}); "
            "for a private CA pass verify='/path/to/ca.pem' (or an ssl.SSLContext)"
        )
        error.retryable = False
        return error
    if isinstance(exc, aiohttp.ClientConnectorError):
        return BackendUnavailableError(f"no {where} ({exc.os_error or exc}){hint}")
    if isinstance(exc, aiohttp.SocketTimeoutError | asyncio.TimeoutError):
        secs = _secs(read)
        if phase == MID_STREAM:
            advice = "raise ModelOption.STREAM_TIMEOUT if the model is just slow"
            return ReadTimeoutError(f"{where} went silent for{secs} mid-stream ({advice})")
        advice = "the server may be overloaded or still loading the model; raise timeout="
        return ReadTimeoutError(f"{where} sent nothing for{secs} {phase} ({advice})")
    if isinstance(exc, aiohttp.ClientResponseError):  # the answer could not be parsed
        return BackendProtocolError(f"{where} sent a malformed HTTP response {phase}: {exc}")
    if isinstance(exc, aiohttp.ClientError | OSError):
        if phase == BEFORE_ANSWER and not sent:
            return BackendProtocolError(
                f"{where} closed the connection before the request was sent: {exc}",
                retryable=True,
            )
        after = " (not retried: the server may have started on it)" * (phase == BEFORE_ANSWER)
        return BackendProtocolError(f"{where} dropped the connection {phase}{after}: {exc}")
    return BackendError(f"{where} failed {phase}: {exc!r}")


async def status_error(
    response: aiohttp.ClientResponse, service: str, hints: Mapping[int, str]
) -> BackendStatusError:
    """A non-2xx answer as `BackendStatusError` (`RateLimitedError` for 429), with the
    server's message, its body (up to `MAX_ERROR_BODY`) and `Retry-After`."""
    raw = b""
    while len(raw) < MAX_ERROR_BODY:
        piece = await response.content.read(MAX_ERROR_BODY - len(raw))
        if not piece:
            break
        raw += piece
    body = raw.decode("utf-8", "replace")
    detail = body.strip() or response.reason or ""
    with contextlib.suppress(ValueError, AttributeError):
        err = json.loads(body).get("error", body)
        detail = err.get("message", str(err)) if isinstance(err, dict) else str(err)
    status = response.status
    if 300 <= status < 400:
        detail += f" (a redirect to {response.headers.get('Location')}: use that URL)"
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    hint = hints.get(status)
    cls = RateLimitedError if status == 429 else BackendStatusError
    return cls(
        f"{service} answered HTTP {status}: {detail}" + (f" — {hint}" if hint else ""),
        status_code=status, body=body, retry_after=retry_after,
    )  # fmt: skip


__all__ = [
    "BEFORE_ANSWER",
    "IN_BODY",
    "MID_STREAM",
    "error_for",
    "parse_retry_after",
    "status_error",
]
