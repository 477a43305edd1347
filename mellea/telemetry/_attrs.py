"""Reading what spans and metrics record: provider names, token usage, content, errors.

Pure functions over mellea's own objects (no OpenTelemetry import), shared by the tracing
and metrics plugins and the pricing table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CONTENT_LIMIT",
    "REMOTE_PROVIDERS",
    "Usage",
    "class_name",
    "clip",
    "error_attributes",
    "provider_name",
    "request_option_attributes",
]

CONTENT_LIMIT = 500
"""Characters of captured text kept on a span attribute (responses, tool arguments)."""

PROMPT_LIMIT = 4000
"""Characters of a captured prompt kept on a backend span."""

# Backends whose requests leave the process (span kind CLIENT); the embedded engine's
# are INTERNAL.
REMOTE_PROVIDERS = frozenset({"ollama", "openai", "litellm", "watsonx", "bedrock"})

# mellea's provider ids whose GenAI semantic-convention name differs.
_SEMCONV_PROVIDER = {"watsonx": "ibm.watsonx.ai", "bedrock": "aws.bedrock"}


def provider_name(provider: str | None) -> str | None:
    """`gen_ai.provider.name` for a backend's provider id (`"watsonx"` → `"ibm.watsonx.ai"`)."""
    return _SEMCONV_PROVIDER.get(provider, provider) if provider else None


def class_name(value: Any) -> str | None:
    """The class name of `value` (of `value` itself if it is a class); None for None."""
    if value is None:
        return None
    name: str = value.__name__ if isinstance(value, type) else type(value).__name__
    return name


def clip(text: Any, limit: int = CONTENT_LIMIT) -> str | None:
    """`text` as a string of at most `limit` characters (with "..." when cut)."""
    if text is None:
        return None
    if isinstance(text, str):
        as_text = text
    else:
        try:
            as_text = json.dumps(text, default=str, ensure_ascii=False)
        except (TypeError, ValueError):
            as_text = str(text)
    return as_text if len(as_text) <= limit else as_text[:limit] + "..."


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class Usage:
    """Token counts of one request, from a usage dict in OpenAI's shape.

    `cached` and `reasoning` are read flat (`cached_tokens`, `cache_read_input_tokens`,
    `reasoning_tokens`) or from OpenAI's `prompt_tokens_details` /
    `completion_tokens_details`.
    """

    input: int | None = None
    output: int | None = None
    total: int | None = None
    cached: int | None = None
    cache_creation: int | None = None
    reasoning: int | None = None

    @classmethod
    def of(cls, usage: Mapping[str, Any] | None) -> Usage:
        if not usage:
            return cls()
        prompt_details = usage.get("prompt_tokens_details")
        completion_details = usage.get("completion_tokens_details")
        cached = _int(usage.get("cached_tokens"))
        if cached is None:
            cached = _int(usage.get("cache_read_input_tokens"))
        if cached is None and isinstance(prompt_details, Mapping):
            cached = _int(prompt_details.get("cached_tokens"))
        reasoning = _int(usage.get("reasoning_tokens"))
        if reasoning is None and isinstance(completion_details, Mapping):
            reasoning = _int(completion_details.get("reasoning_tokens"))
        return cls(
            input=_int(usage.get("prompt_tokens")),
            output=_int(usage.get("completion_tokens")),
            total=_int(usage.get("total_tokens")),
            cached=cached,
            cache_creation=_int(usage.get("cache_creation_input_tokens")),
            reasoning=reasoning,
        )

    def attributes(self) -> dict[str, Any]:
        """The `gen_ai.usage.*` span attributes (and mellea's total)."""
        return {
            "gen_ai.usage.input_tokens": self.input,
            "gen_ai.usage.output_tokens": self.output,
            "gen_ai.usage.cache_read.input_tokens": self.cached,
            "gen_ai.usage.cache_creation.input_tokens": self.cache_creation,
            "gen_ai.usage.reasoning.output_tokens": self.reasoning,
            "mellea.usage.total_tokens": self.total,
        }


# ModelOption keys (and the native names) -> GenAI request attributes.
_REQUEST_OPTIONS = {
    "temperature": "gen_ai.request.temperature",
    "@@@max_new_tokens@@@": "gen_ai.request.max_tokens",
    "max_tokens": "gen_ai.request.max_tokens",
    "@@@seed@@@": "gen_ai.request.seed",
    "seed": "gen_ai.request.seed",
    "top_p": "gen_ai.request.top_p",
    "top_k": "gen_ai.request.top_k",
    "@@@stop_sequences@@@": "gen_ai.request.stop_sequences",
}


def request_option_attributes(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """`gen_ai.request.*` attributes for the sampling options a call set."""
    out: dict[str, Any] = {}
    for key, value in (options or {}).items():
        name = _REQUEST_OPTIONS.get(str(key))
        if name is None or value is None:
            continue
        if name == "gen_ai.request.stop_sequences":
            value = [value] if isinstance(value, str) else [str(v) for v in value]
        elif not isinstance(value, int | float | str):
            continue
        out.setdefault(name, value)
    return out


def error_attributes(exc: BaseException | None) -> dict[str, Any]:
    """`error.type` (the exception's class name) and, for HTTP errors, the status code."""
    if exc is None:
        return {}
    status = getattr(exc, "status_code", None)
    return {
        "error.type": type(exc).__name__,
        "http.response.status_code": status if isinstance(status, int) else None,
    }
