"""`ModelOption`: backend-agnostic option keys, and their validation and merging.

Keys wrapped in `@@@` are mellea's own; every backend translates them to its native names.
Any other key is forwarded to the backend unchanged. When both a `ModelOption` key and its
backend-native equivalent are given, the `ModelOption` key wins.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core.errors import InvalidOptionError

logger = logging.getLogger("mellea")


class ModelOption:
    """Backend-agnostic model option keys (use them as dict keys in `model_options`)."""

    TOOLS = "@@@tools@@@"
    """A list (or name->tool dict) of tools the model may call."""
    TOOL_CHOICE = "tool_choice"
    """"none", "auto", or a tool name."""
    MAX_NEW_TOKENS = "@@@max_new_tokens@@@"
    SYSTEM_PROMPT = "@@@system_prompt@@@"
    TEMPERATURE = "temperature"
    CONTEXT_WINDOW = "@@@context_window@@@"
    THINKING = "@@@thinking@@@"
    SEED = "@@@seed@@@"
    STREAM = "@@@stream@@@"
    STREAM_TIMEOUT = "@@@stream_timeout@@@"
    """Seconds to wait for each streamed chunk (including the first); None disables."""
    STOP_SEQUENCES = "@@@stop_sequences@@@"
    TIMEOUT = "@@@timeout@@@"
    """Deadline in seconds for the whole call, retries and sampling loop included."""
    LOGITS = "@@@logits@@@"
    """True: keep each generated token's scores as the sampler saw them (after repetition
    penalty, temperature and top-k/top-p/min-p masking, masked tokens at -inf) in
    `mot.generation.logits`, one `(vocab_size,)` float32 array per token. Only engines
    that compute logits (the embedded one) support it; others raise `InvalidOptionError`."""
    RAW_LOGITS = "@@@raw_logits@@@"
    """True: keep each generated token's raw LM-head logits (before any sampler step) in
    `mot.generation.raw_logits`. Same support as `LOGITS`."""

    @staticmethod
    def replace_keys(options: Mapping[str, Any], from_to: Mapping[str, str]) -> dict[str, Any]:
        """Rename keys per `from_to`; an existing (non-None) destination value is kept."""
        out = dict(options)
        for old, new in from_to.items():
            if old not in out or old == new:
                continue
            value = out.pop(old)
            if out.get(new) is None:
                out[new] = value
            else:
                logger.warning(
                    "model option %r=%r dropped: %r=%r takes precedence", old, value, new, out[new]
                )
        return out

    @staticmethod
    def remove_special_keys(model_options: Mapping[str, Any]) -> dict[str, Any]:
        """Drop mellea's `@@@` keys (they must never reach a backend API)."""
        return {k: v for k, v in model_options.items() if not k.startswith("@@@")}

    @staticmethod
    def merge_model_options(
        persistent_opts: Mapping[str, Any], overwrite_opts: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """`persistent_opts` overridden by `overwrite_opts`."""
        merged = dict(persistent_opts)
        if overwrite_opts:
            merged.update(overwrite_opts)
        return merged


_KNOWN_SENTINELS = frozenset(
    v for k, v in vars(ModelOption).items() if k.isupper() and v.startswith("@@@")
)
DEFAULT_STREAM_TIMEOUT_S = 120.0


@dataclass(slots=True)  # one per call, alive as long as the call: slots keep it small
class ResolvedOptions:
    """Options for one call, validated and in canonical form (what backends consume)."""

    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    system_prompt: str | None = None
    stop: list[str] | None = None
    stream: bool = False
    stream_timeout: float | None = DEFAULT_STREAM_TIMEOUT_S
    context_window: int | None = None
    thinking: Any = None
    tools: list[Any] | dict[str, Any] | None = None
    tool_choice: Any = None
    timeout: float | None = None
    logits: bool = False
    raw_logits: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    """Backend-native keys, forwarded unchanged."""
    raw: dict[str, Any] = field(default_factory=dict)
    """The merged options as given (before canonicalisation)."""


def _fail(key: str, expected: str, value: Any) -> InvalidOptionError:
    return InvalidOptionError(
        f"model option {key!r} must be {expected}, got {value!r} ({type(value).__name__})"
    )


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return (isinstance(v, int | float) and not isinstance(v, bool)) and math.isfinite(v)


def resolve_options(
    *layers: Mapping[str, Any] | None, native_aliases: Mapping[str, str] | None = None
) -> ResolvedOptions:
    """Merge option layers (later wins), fold native aliases into `ModelOption` keys, validate.

    Raises `InvalidOptionError` for unknown `@@@` keys and ill-typed known options.
    """
    merged: dict[str, Any] = {}
    for layer in layers:
        if layer:
            merged.update(layer)
    canonical = (
        ModelOption.replace_keys(merged, native_aliases) if native_aliases and merged else merged
    )
    out = ResolvedOptions(raw=merged)
    for key, value in canonical.items():
        if not isinstance(key, str):
            raise InvalidOptionError(f"model option keys must be strings, got {key!r}")
        if key.startswith("@@@") and key not in _KNOWN_SENTINELS:
            raise InvalidOptionError(
                f"unknown ModelOption key {key!r}; see mellea.backends.ModelOption"
            )
        _apply(out, key, value)
    return out


def _apply(out: ResolvedOptions, key: str, value: Any) -> None:
    if key == ModelOption.TEMPERATURE:
        if value is not None and not (_is_number(value) and value >= 0):
            raise _fail(key, "a number >= 0", value)
        out.temperature = None if value is None else float(value)
    elif key == ModelOption.MAX_NEW_TOKENS:
        if value is not None and not (_is_int(value) and value > 0):
            raise _fail(key, "a positive int", value)
        out.max_tokens = value
    elif key == ModelOption.SEED:
        if value is not None and not _is_int(value):
            raise _fail(key, "an int", value)
        out.seed = value
    elif key == ModelOption.SYSTEM_PROMPT:
        if value is not None and not isinstance(value, str):
            raise _fail(key, "a str", value)
        out.system_prompt = value
    elif key == ModelOption.STOP_SEQUENCES:
        if isinstance(value, str):
            value = [value]
        if value is not None and not (
            isinstance(value, list | tuple) and all(isinstance(s, str) and s for s in value)
        ):
            raise _fail(key, "a list of non-empty strings", value)
        out.stop = None if value is None else list(value)
    elif key == ModelOption.STREAM:
        if not isinstance(value, bool):
            raise _fail(key, "a bool", value)
        out.stream = value
    elif key == ModelOption.STREAM_TIMEOUT:
        if value is not None and not (_is_number(value) and value > 0):
            raise _fail(key, "a number of seconds > 0, or None", value)
        out.stream_timeout = value
    elif key == ModelOption.TIMEOUT:
        if value is not None and not (_is_number(value) and value > 0):
            raise _fail(key, "a number of seconds > 0, or None", value)
        out.timeout = value
    elif key == ModelOption.CONTEXT_WINDOW:
        if value is not None and not (_is_int(value) and value > 0):
            raise _fail(key, "a positive int", value)
        out.context_window = value
    elif key == ModelOption.THINKING:
        out.thinking = value
    elif key == ModelOption.TOOLS:
        if value is not None and not isinstance(value, list | tuple | dict):
            raise _fail(key, "a list or dict of tools", value)
        out.tools = list(value) if isinstance(value, tuple) else value
    elif key in (ModelOption.LOGITS, ModelOption.RAW_LOGITS):
        if value is not None and not isinstance(value, bool):
            raise _fail(key, "a bool", value)
        setattr(out, "logits" if key == ModelOption.LOGITS else "raw_logits", bool(value))
    elif key == ModelOption.TOOL_CHOICE:
        out.tool_choice = value
    else:
        out.extra[key] = value


__all__ = ["DEFAULT_STREAM_TIMEOUT_S", "ModelOption", "ResolvedOptions", "resolve_options"]
