"""`Message` and `ToolMessage` (defined in `mellea.core.message`)."""

from ...core.message import Message, Role, ToolMessage

__all__ = ["Message", "Role", "ToolMessage"]
