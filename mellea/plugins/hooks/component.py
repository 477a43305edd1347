"""Component hook payloads (defined in `mellea.core.hooks.component`)."""

from ...core.hooks.component import (
    ComponentPostErrorPayload,
    ComponentPostSuccessPayload,
    ComponentPreExecutePayload,
)

__all__ = [
    "ComponentPostErrorPayload",
    "ComponentPostSuccessPayload",
    "ComponentPreExecutePayload",
]
