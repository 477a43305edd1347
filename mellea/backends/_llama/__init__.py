"""Embedded local inference engine (llama.cpp via llama-cpp-python), independent of mellea.

Importing this package is cheap: llama_cpp is imported lazily on the engine's owner thread.
See ``engine.py`` for the threading model and ``batch.py`` for batched decoding.
"""

from .api import (
    EngineClosedError,
    EngineError,
    FinishReason,
    GenerationParams,
    ModelLoadError,
    PromptTooLongError,
    TokenSink,
)
from .engine import Engine, shared_engine
from .grammar import json_schema_to_gbnf
from .job import Job
from .model_files import INSTALL_HINT, ModelNotFoundError, default_model_path
from .threads import THREADS_ENV, default_n_threads

__all__ = [
    "INSTALL_HINT",
    "THREADS_ENV",
    "Engine",
    "EngineClosedError",
    "EngineError",
    "FinishReason",
    "GenerationParams",
    "Job",
    "ModelLoadError",
    "ModelNotFoundError",
    "PromptTooLongError",
    "TokenSink",
    "default_model_path",
    "default_n_threads",
    "json_schema_to_gbnf",
    "shared_engine",
]
