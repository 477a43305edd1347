"""Generation hook payloads (defined in `mellea.core.hooks.generation`)."""

from ...core.hooks.generation import (
    GenerationBatchErrorPayload,
    GenerationBatchPostCallPayload,
    GenerationBatchPreCallPayload,
    GenerationErrorPayload,
    GenerationEventPayload,
    GenerationPostCallPayload,
    GenerationPreCallPayload,
)

__all__ = [
    "GenerationBatchErrorPayload",
    "GenerationBatchPostCallPayload",
    "GenerationBatchPreCallPayload",
    "GenerationErrorPayload",
    "GenerationEventPayload",
    "GenerationPostCallPayload",
    "GenerationPreCallPayload",
]
