"""Every exception mellea raises, in one place.

```
MelleaError
├── InvalidOptionError (ValueError)          bad model option name/type, empty prompt, bad format=
├── ConcurrentReadError (RuntimeError)       two readers on one thunk's stream
├── ComponentParseError                      a component could not parse the model output
├── ToolArgumentsError (ValueError)          a tool call's arguments do not fit the tool's schema
├── GenerationCancelled                      the generation was cancelled; partial text kept
├── PluginViolationError                     a plugin hook blocked the operation (nothing sent)
└── BackendError                             the engine did not produce an answer
    ├── BackendUnavailableError (ConnectionError)   cannot reach the server / load the model
    ├── BackendTimeoutError (TimeoutError)
    │   ├── ConnectTimeoutError              connecting took longer than the connect timeout
    │   ├── ReadTimeoutError                 stalled before headers or between chunks
    │   ├── WriteTimeoutError                the server stopped taking the request body
    │   ├── PoolTimeoutError                 no request slot freed up within the pool timeout
    │   └── DeadlineExceededError            the whole call ran past ModelOption.TIMEOUT
    ├── BackendStatusError                   HTTP 4xx/5xx (status_code, body, retry_after)
    │   └── RateLimitedError                 HTTP 429
    ├── BackendProtocolError                 malformed stream line / JSON / dropped stream
    ├── EngineError                          the embedded engine failed
    └── CassetteMissError                    replaying a test: the request is not in its cassette
```

Every `MelleaError` raised for a generation carries `partial_output`: the text the model
had produced before the failure (also kept on the thunk), so nothing generated is lost.
`BackendError.retryable` says whether trying the same request again may succeed (the
HTTP backends retry such failures themselves while no output has reached the thunk).
"""

from __future__ import annotations

from typing import Any

TRANSIENT_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
"""HTTP statuses that mean "try again later" (timeout, conflict, rate limit, overload)."""


class MelleaError(Exception):
    """Base class of every error raised by mellea."""

    partial_output: str = ""

    def __init__(self, message: str = "", *, partial_output: str = "") -> None:
        super().__init__(message)
        self.partial_output = partial_output


class InvalidOptionError(MelleaError, ValueError):
    """A model option, argument or prompt is not acceptable; raised before any request."""


class ConcurrentReadError(MelleaError, RuntimeError):
    """A second coroutine tried to read a thunk's stream while another one owns it."""


class ComponentParseError(MelleaError):
    """A component could not parse the model's output into its declared type."""


class ToolArgumentsError(MelleaError, ValueError):
    """The arguments of a tool call do not match the tool's parameters (`tool_name`, `errors`)."""

    def __init__(
        self, message: str, *, tool_name: str = "", errors: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.tool_name = tool_name
        self.errors = errors or []


class GenerationCancelled(MelleaError):
    """The generation was cancelled before it finished (`partial_output` holds what came)."""


class PluginViolationError(MelleaError):
    """A plugin blocked the operation at a hook point; what it guarded did not happen.

    `hook_type` — the hook point; `plugin_name` — who blocked; `reason`, `code`,
    `details` — what the plugin said (`block(reason, code=..., details=...)`).
    """

    def __init__(
        self,
        hook_type: str,
        reason: str,
        code: str = "",
        plugin_name: str = "",
        *,
        details: dict[str, Any] | None = None,
        partial_output: str = "",
    ) -> None:
        where = f" by plugin {plugin_name!r}" if plugin_name else ""
        tag = f" [{code}]" if code else ""
        super().__init__(
            f"{hook_type} blocked{where}{tag}: {reason}", partial_output=partial_output
        )
        self.hook_type = hook_type
        self.reason = reason
        self.code = code
        self.plugin_name = plugin_name
        self.details: dict[str, Any] = dict(details or {})


class BackendError(MelleaError):
    """The backend could not produce an answer."""

    retryable: bool = False


class BackendUnavailableError(BackendError, ConnectionError):
    """The server could not be reached (refused, DNS, reset before any answer)."""

    retryable = True


class BackendTimeoutError(BackendError, TimeoutError):
    """A time limit passed before the backend answered."""


class ConnectTimeoutError(BackendTimeoutError):
    """Connecting to the server took longer than the connect timeout."""

    retryable = True


class ReadTimeoutError(BackendTimeoutError):
    """The server went silent (before its headers or between stream chunks)."""


class WriteTimeoutError(BackendTimeoutError):
    """The server stopped accepting the request body for longer than the write timeout."""


class PoolTimeoutError(BackendTimeoutError):
    """Every request slot of the backend stayed busy for longer than the pool timeout."""


class DeadlineExceededError(BackendTimeoutError):
    """The whole call (including retries and sampling loops) ran past its deadline."""


class BackendStatusError(BackendError):
    """The server answered with an HTTP error status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: str = "",
        partial_output: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, partial_output=partial_output)
        self.status_code = status_code
        self.body = body
        self.retry_after = retry_after
        self.retryable = status_code in TRANSIENT_STATUS


class RateLimitedError(BackendStatusError):
    """HTTP 429: the server asks us to slow down (`retry_after` seconds, when it says)."""


class BackendProtocolError(BackendError):
    """The server's answer broke its protocol (malformed JSON or stream, dropped stream).

    `retryable` is True when the connection dropped before any answer arrived.
    """

    def __init__(
        self, message: str = "", *, partial_output: str = "", retryable: bool = False
    ) -> None:
        super().__init__(message, partial_output=partial_output)
        self.retryable = retryable


class EngineError(BackendError):
    """The embedded inference engine failed (model file, load, decode)."""


class CassetteMissError(BackendError):
    """A test replaying its cassette (`mellea.testing`) made a request it does not hold.

    The message shows the difference to the closest recorded request.
    """


__all__ = [
    "TRANSIENT_STATUS",
    "BackendError",
    "BackendProtocolError",
    "BackendStatusError",
    "BackendTimeoutError",
    "BackendUnavailableError",
    "CassetteMissError",
    "ComponentParseError",
    "ConcurrentReadError",
    "ConnectTimeoutError",
    "DeadlineExceededError",
    "EngineError",
    "GenerationCancelled",
    "InvalidOptionError",
    "MelleaError",
    "PluginViolationError",
    "PoolTimeoutError",
    "RateLimitedError",
    "ReadTimeoutError",
    "ToolArgumentsError",
    "WriteTimeoutError",
]
