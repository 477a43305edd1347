"""Exceptions → HTTP status and the OpenAI error body.

| what happened                                         | status | `type`                |
|-------------------------------------------------------|--------|-----------------------|
| malformed JSON, a field the schema refuses, bad schema | 400    | invalid_request_error |
| `InvalidOptionError` (an option, prompt or template the library refuses) | 400 | invalid_request_error |
| the server's deadline, `DeadlineExceededError`, any backend timeout | 504 | timeout_error |
| anything else the program raised                      | 500    | server_error          |

The message is the exception's own (`TypeName: message`); the traceback goes to the
`mellea.serve` log and reaches the client only with `m serve --debug`.
"""

from __future__ import annotations

import traceback
from typing import Any

from ..core.errors import InvalidOptionError
from . import _wire


class BadRequest(ValueError):
    """The request is well-formed JSON but cannot be served as asked (a 400)."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class ServerDeadline(TimeoutError):
    """The request ran past `m serve --timeout`."""


def describe(exc: BaseException, *, debug: bool = False) -> tuple[int, dict[str, Any]]:
    """The status and OpenAI error body for `exc`."""
    from pydantic import ValidationError

    from ._schema import InvalidSchema

    if isinstance(exc, ValidationError):
        errors = exc.errors()
        loc, msg = (errors[0]["loc"], errors[0]["msg"]) if errors else ((), str(exc))
        param = ".".join(str(p) for p in loc) or None
        message = f"{param}: {msg}" if param else msg
        return 400, _wire.error_body(message, "invalid_request_error", param=param)
    if isinstance(exc, BadRequest):
        return 400, _wire.error_body(str(exc), "invalid_request_error", param=exc.param)
    if isinstance(exc, InvalidSchema):
        param = "response_format.json_schema.schema"
        return 400, _wire.error_body(str(exc), "invalid_request_error", param=param)
    if isinstance(exc, InvalidOptionError):
        return 400, _wire.error_body(str(exc), "invalid_request_error")
    if isinstance(exc, TimeoutError):  # ServerDeadline, and every mellea timeout error
        body = _wire.error_body(_message(exc), "timeout_error", code="timeout")
        return 504, _with_traceback(body, exc, debug)
    body = _wire.error_body(_message(exc), "server_error")
    return 500, _with_traceback(body, exc, debug)


def _message(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _with_traceback(body: dict[str, Any], exc: BaseException, debug: bool) -> dict[str, Any]:
    if debug:
        body["error"]["traceback"] = "".join(traceback.format_exception(exc))
    return body


__all__ = ["BadRequest", "ServerDeadline", "describe"]
