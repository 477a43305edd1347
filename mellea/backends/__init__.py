"""Inference backends (one module per engine, imported on use) and `ModelOption`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr
from .model_options import ModelOption

_EXPORTS = {
    "model_ids": "mellea.backends.model_ids",
    "Backend": "mellea.core.backend:Backend",
    "OllamaModelBackend": "mellea.backends.ollama:OllamaModelBackend",
    "OpenAIBackend": "mellea.backends.openai:OpenAIBackend",
    "LiteLLMBackend": "mellea.backends.litellm:LiteLLMBackend",
    "LocalBackend": "mellea.backends.local:LocalBackend",
    "tool": "mellea.backends.tools:tool",
    "MelleaTool": "mellea.backends.tools:MelleaTool",
}
__getattr__ = lazy_getattr(__name__, _EXPORTS)
__all__ = ["ModelOption", *_EXPORTS]

if TYPE_CHECKING:
    from ..core.backend import Backend
    from . import model_ids
    from .tools import MelleaTool, tool
