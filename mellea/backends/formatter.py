"""Chat-message rendering for the backends (it lives in `mellea.formatters.wire`)."""

from ..formatters.chat_formatter import ChatFormatter
from ..formatters.wire import (
    ChatMessage,
    component_text,
    iter_thunk_inputs,
    message_to_wire,
    render_template,
    to_chat_messages,
    to_message,
)

__all__ = [
    "ChatFormatter",
    "ChatMessage",
    "component_text",
    "iter_thunk_inputs",
    "message_to_wire",
    "render_template",
    "to_chat_messages",
    "to_message",
]
