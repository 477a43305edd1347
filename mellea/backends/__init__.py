"""Inference backends (one module per engine, imported on use) and `ModelOption`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr
from .model_options import ModelOption

_EXPORTS = {
    "model_ids": "mellea.backends.model_ids",
    "Backend": "mellea.core.backend:Backend",
    "BaseModelSubclass": "mellea.core.backend:BaseModelSubclass",
    "FormatterBackend": "mellea.backends.backend:FormatterBackend",
    "ModelIdentifier": "mellea.backends.model_ids:ModelIdentifier",
    "SimpleLRUCache": "mellea.backends.cache:SimpleLRUCache",
    "OllamaModelBackend": "mellea.backends.ollama:OllamaModelBackend",
    "OpenAIBackend": "mellea.backends.openai:OpenAIBackend",
    "LiteLLMBackend": "mellea.backends.litellm:LiteLLMBackend",
    "LocalBackend": "mellea.backends.local:LocalBackend",
    "DummyBackend": "mellea.backends.dummy:DummyBackend",
    "tool": "mellea.backends.tools:tool",
    "MelleaTool": "mellea.backends.tools:MelleaTool",
}
__getattr__ = lazy_getattr(__name__, _EXPORTS)
__all__ = ["ModelOption", *_EXPORTS]

if TYPE_CHECKING:
    from ..core.backend import Backend as Backend
    from ..core.backend import BaseModelSubclass as BaseModelSubclass
    from . import model_ids as model_ids
    from .backend import FormatterBackend as FormatterBackend
    from .cache import SimpleLRUCache as SimpleLRUCache
    from .dummy import DummyBackend as DummyBackend
    from .litellm import LiteLLMBackend as LiteLLMBackend
    from .local import LocalBackend as LocalBackend
    from .model_ids import ModelIdentifier as ModelIdentifier
    from .ollama import OllamaModelBackend as OllamaModelBackend
    from .openai import OpenAIBackend as OpenAIBackend
    from .tools import MelleaTool as MelleaTool
    from .tools import tool as tool
