"""Helpers under the reference's public paths.

- `async_helpers` — `wait_for_all_mots`, `send_to_queue`, `get_current_event_loop`,
  `ClientCache`, `DEFAULT_CHUNK_TIMEOUT`;
- `event_loop_helper` — sync-over-async through mellea's one I/O loop;
- `annotation_helpers` — `resolve_signature_annotations`;
- `openai_compatible_helpers`, `server_type` — the OpenAI-compatible wire helpers and
  server detection (implemented in `mellea.backends`);
- `portal`, `templating` — mellea's I/O loop and sandboxed prompt templates.

This package sits above `mellea.backends` (its names re-export backend helpers): code in
`core`, `formatters` or `backends` uses `mellea._runtime` and its own layers instead.
Names load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr

_ASYNC = "mellea.helpers.async_helpers"
_OPENAI = "mellea.helpers.openai_compatible_helpers"
_SERVER = "mellea.helpers.server_type"

_EXPORTS = {
    "DEFAULT_CHUNK_TIMEOUT": f"{_ASYNC}:DEFAULT_CHUNK_TIMEOUT",
    "ClientCache": f"{_ASYNC}:ClientCache",
    "get_current_event_loop": f"{_ASYNC}:get_current_event_loop",
    "send_to_queue": f"{_ASYNC}:send_to_queue",
    "wait_for_all_mots": f"{_ASYNC}:wait_for_all_mots",
    "_run_async_in_thread": "mellea.helpers.event_loop_helper:_run_async_in_thread",
    "OPENAI_COMPATIBLE_WIRE_PROVIDERS": f"{_OPENAI}:OPENAI_COMPATIBLE_WIRE_PROVIDERS",
    "chat_completion_delta_merge": f"{_OPENAI}:chat_completion_delta_merge",
    "extract_model_tool_requests": f"{_OPENAI}:extract_model_tool_requests",
    "merge_provider_fields": f"{_OPENAI}:merge_provider_fields",
    "message_to_openai_message": f"{_OPENAI}:message_to_openai_message",
    "messages_to_docs": f"{_OPENAI}:messages_to_docs",
    "prefetch_audio_urls": f"{_OPENAI}:prefetch_audio_urls",
    "should_replay_reasoning": f"{_OPENAI}:should_replay_reasoning",
    "_ServerType": f"{_SERVER}:_ServerType",
    "_server_type": f"{_SERVER}:_server_type",
    "is_vllm_server_with_structured_output": f"{_SERVER}:is_vllm_server_with_structured_output",
}

__getattr__ = lazy_getattr(__name__, _EXPORTS)
__all__ = list(_EXPORTS)

if TYPE_CHECKING:  # what the lazy names are (and, for the layering contract, where from)
    from .async_helpers import DEFAULT_CHUNK_TIMEOUT as DEFAULT_CHUNK_TIMEOUT
    from .async_helpers import ClientCache as ClientCache
    from .async_helpers import get_current_event_loop as get_current_event_loop
    from .async_helpers import send_to_queue as send_to_queue
    from .async_helpers import wait_for_all_mots as wait_for_all_mots
    from .event_loop_helper import _run_async_in_thread as _run_async_in_thread
    from .openai_compatible_helpers import (
        OPENAI_COMPATIBLE_WIRE_PROVIDERS as OPENAI_COMPATIBLE_WIRE_PROVIDERS,
    )
    from .openai_compatible_helpers import (
        chat_completion_delta_merge as chat_completion_delta_merge,
    )
    from .openai_compatible_helpers import (
        extract_model_tool_requests as extract_model_tool_requests,
    )
    from .openai_compatible_helpers import merge_provider_fields as merge_provider_fields
    from .openai_compatible_helpers import message_to_openai_message as message_to_openai_message
    from .openai_compatible_helpers import messages_to_docs as messages_to_docs
    from .openai_compatible_helpers import prefetch_audio_urls as prefetch_audio_urls
    from .openai_compatible_helpers import should_replay_reasoning as should_replay_reasoning
    from .server_type import _server_type as _server_type
    from .server_type import _ServerType as _ServerType
    from .server_type import (
        is_vllm_server_with_structured_output as is_vllm_server_with_structured_output,
    )
