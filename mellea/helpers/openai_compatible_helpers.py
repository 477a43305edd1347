"""OpenAI-compatible wire helpers under the reference's path.

The implementation lives with the backends that use it: messages in
`mellea.backends._openai_messages`, answers in `mellea.backends._openai_response`.
"""

from __future__ import annotations

from ..backends._openai_messages import (
    OPENAI_COMPATIBLE_WIRE_PROVIDERS,
    merge_provider_fields,
    message_to_openai_message,
    messages_to_docs,
    prefetch_audio_urls,
    should_replay_reasoning,
)
from ..backends._openai_response import (
    CompletionUsage,
    ToolCallDict,
    ToolCallFunction,
    build_completion_usage,
    build_tool_calls,
    chat_completion_delta_merge,
    extract_model_tool_requests,
    has_tool_calls,
)

__all__ = [
    "OPENAI_COMPATIBLE_WIRE_PROVIDERS",
    "CompletionUsage",
    "ToolCallDict",
    "ToolCallFunction",
    "build_completion_usage",
    "build_tool_calls",
    "chat_completion_delta_merge",
    "extract_model_tool_requests",
    "has_tool_calls",
    "merge_provider_fields",
    "message_to_openai_message",
    "messages_to_docs",
    "prefetch_audio_urls",
    "should_replay_reasoning",
]
