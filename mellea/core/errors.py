"""Every exception mellea raises, in one place.

```
MelleaError
├── InvalidOptionError (ValueError)          bad model option name/type, empty prompt, ...
├── ConcurrentReadError (RuntimeError)       two readers on one thunk's stream
├── ComponentParseError                      a component could not parse the model output
├── ToolArgumentsError (ValueError)          a tool call's arguments do not fit the tool's schema
├── GenerationCancelled                      the generation was cancelled; partial text kept
└── BackendError                             the engine did not produce an answer
    ├── BackendUnavailableError (ConnectionError)   cannot reach the server / load the model
    ├── BackendTimeoutError (TimeoutError)
    │   ├── ConnectTimeoutError
    │   ├── ReadTimeoutError                 stalled before headers or between chunks
    │   └── DeadlineExceededError            the whole call ran past its deadline
    ├── BackendStatusError                   HTTP 4xx/5xx (status_code, body)
    │   └── RateLimitedError                 HTTP 429 (retry_after)
    ├── BackendProtocolError                 malformed stream line / JSON / dropped stream
    └── EngineError                          the embedded engine failed
```

Every `MelleaError` raised for a generation carries `partial_output`: the text the model
had produced before the failure (also kept on the thunk), so nothing generated is lost.
"""

from __future__ import annotations


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
        self.retryable = status_code in (408, 409, 429) or status_code >= 500


class RateLimitedError(BackendStatusError):
    """HTTP 429: the server asks us to slow down (`retry_after` seconds, when it says)."""


class BackendProtocolError(BackendError):
    """The server's answer broke its protocol (malformed JSON or stream, dropped stream)."""


class EngineError(BackendError):
    """The embedded inference engine failed (model file, load, decode)."""


__all__ = [
    "BackendError",
    "BackendProtocolError",
    "BackendStatusError",
    "BackendTimeoutError",
    "BackendUnavailableError",
    "ComponentParseError",
    "ConcurrentReadError",
    "ConnectTimeoutError",
    "DeadlineExceededError",
    "EngineError",
    "GenerationCancelled",
    "InvalidOptionError",
    "MelleaError",
    "RateLimitedError",
    "ReadTimeoutError",
    "ToolArgumentsError",
]
