"""The canonical form of a request: what a cache key and a cassette interaction hold.

`describe_call` asks the engine for its request body (`ChatBackend.request_description`,
or `raw_request_description` for a plain completion of `generate_from_raw`) and wraps it with the backend kind and model. `canonical` turns that into plain, stable
JSON data: secrets dropped, integral floats written as ints (`0.0` and `0` are the same
temperature), anything that is not JSON shown by its type and value. `request_key` hashes
the canonical JSON.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._chat import AnyCall, ChatBackend

KEY_VERSION = 1
"""Bumped when the description changes shape, so old entries stop matching."""

_SECRET_NAMES = re.compile(
    r"^(api[_-]?key|x-api-key|authorization|proxy-authorization|password|passwd|secret"
    r"|client[_-]?secret|access[_-]?token|refresh[_-]?token|id[_-]?token|session[_-]?token"
    r"|aws_access_key_id|aws_secret_access_key|aws_session_token|headers|extra_headers"
    r"|default_headers|api_base|base_url|timeout|num_retries)$",
    re.IGNORECASE,
)
"""Keys left out of a description: credentials, and where/how a request is sent (a URL can
carry credentials too). None of them changes the answer."""


def describe_call(backend: ChatBackend, call: AnyCall) -> dict[str, Any]:
    """The canonical description of `call` on `backend` (see the module docstring)."""
    from .._chat_parts import RawCall

    if isinstance(call, RawCall):  # (its body holds the prompt: never a chat call's key)
        request = backend.raw_request_description(call)
    else:
        request = backend.request_description(call)
    description: dict[str, Any] = canonical({
        "v": KEY_VERSION,
        "backend": backend.provider,
        "model": backend.model_id,
        "request": request,
    })  # fmt: skip
    return description


def canonical(value: Any) -> Any:
    """`value` as JSON data with secrets dropped (see the module docstring)."""
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items() if not _SECRET_NAMES.match(str(k))}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)
        return value if math.isfinite(value) else repr(value)
    dump = getattr(value, "model_dump", None)  # a pydantic model given as an option
    if callable(dump):
        return canonical(dump(mode="json"))
    return f"<{type(value).__qualname__}: {value!r}>"


def canonical_json(description: Any, *, indent: int | None = None) -> str:
    """Stable JSON text of a canonical description (sorted keys)."""
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(
        description, sort_keys=True, ensure_ascii=False, indent=indent, separators=separators
    )


def request_key(description: Any) -> str:
    """The cache key of a canonical description: a SHA-256 hex digest."""
    return hashlib.sha256(canonical_json(description).encode()).hexdigest()


__all__ = ["KEY_VERSION", "canonical", "canonical_json", "describe_call", "request_key"]
