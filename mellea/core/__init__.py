"""mellea's data model: blocks, components, thunks, contexts and the backend protocol.

Nothing here does I/O.
"""

from .backend import Backend
from .base import CBlock, Component, ComponentParseError, TemplateRepresentation
from .context import Context, ContextTurn
from .errors import (
    BackendError,
    BackendProtocolError,
    BackendStatusError,
    BackendTimeoutError,
    BackendUnavailableError,
    ConcurrentReadError,
    GenerationCancelled,
    InvalidOptionError,
    MelleaError,
    RateLimitedError,
    ToolArgumentsError,
)
from .requirement import Requirement, ValidationResult
from .sampling import SamplingResult
from .thunk import GenerationMetadata, ModelOutputThunk, ModelToolCall

__all__ = [
    "Backend",
    "BackendError",
    "BackendProtocolError",
    "BackendStatusError",
    "BackendTimeoutError",
    "BackendUnavailableError",
    "CBlock",
    "Component",
    "ComponentParseError",
    "ConcurrentReadError",
    "Context",
    "ContextTurn",
    "GenerationCancelled",
    "GenerationMetadata",
    "InvalidOptionError",
    "MelleaError",
    "ModelOutputThunk",
    "ModelToolCall",
    "RateLimitedError",
    "Requirement",
    "SamplingResult",
    "TemplateRepresentation",
    "ValidationResult",
]
