"""`Message` and `ToolMessage` (the public path is `mellea.stdlib.components.chat`)."""

from ...core.message import Message, Role, ToolMessage

__all__ = ["Message", "Role", "ToolMessage"]
