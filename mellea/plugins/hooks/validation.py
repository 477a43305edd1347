"""Validation hook payloads (defined in `mellea.core.hooks.validation`)."""

from ...core.hooks.validation import (
    ValidationPostCheckPayload,
    ValidationPreCheckPayload,
)

__all__ = [
    "ValidationPostCheckPayload",
    "ValidationPreCheckPayload",
]
