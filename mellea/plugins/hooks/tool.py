"""Tool hook payloads (defined in `mellea.core.hooks.tool`)."""

from ...core.hooks.tool import (
    ToolPostInvokePayload,
    ToolPreInvokePayload,
)

__all__ = [
    "ToolPostInvokePayload",
    "ToolPreInvokePayload",
]
