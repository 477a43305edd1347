"""Hook points and execution modes (the names plugins register against)."""

from __future__ import annotations

import enum

__all__ = ["HookType", "PluginMode"]


class HookType(enum.StrEnum):
    """Where in mellea's execution a hook fires."""

    SESSION_PRE_INIT = "session_pre_init"
    SESSION_POST_INIT = "session_post_init"
    SESSION_RESET = "session_reset"
    SESSION_CLEANUP = "session_cleanup"
    COMPONENT_PRE_EXECUTE = "component_pre_execute"
    COMPONENT_POST_SUCCESS = "component_post_success"
    COMPONENT_POST_ERROR = "component_post_error"
    GENERATION_PRE_CALL = "generation_pre_call"
    GENERATION_POST_CALL = "generation_post_call"
    GENERATION_ERROR = "generation_error"
    GENERATION_BATCH_PRE_CALL = "generation_batch_pre_call"
    GENERATION_BATCH_POST_CALL = "generation_batch_post_call"
    GENERATION_BATCH_ERROR = "generation_batch_error"
    GENERATION_EVENT = "generation_event"
    VALIDATION_PRE_CHECK = "validation_pre_check"
    VALIDATION_POST_CHECK = "validation_post_check"
    SAMPLING_LOOP_START = "sampling_loop_start"
    SAMPLING_ITERATION = "sampling_iteration"
    SAMPLING_REPAIR = "sampling_repair"
    SAMPLING_LOOP_END = "sampling_loop_end"
    TOOL_PRE_INVOKE = "tool_pre_invoke"
    TOOL_POST_INVOKE = "tool_post_invoke"
    ADAPTER_FUNCTION_INVOCATION_COMPLETE = "adapter_function_invocation_complete"
    ADAPTER_FUNCTION_PHASE_COMPLETE = "adapter_function_phase_complete"
    STREAMING_START = "streaming_start"
    STREAMING_EVENT = "streaming_event"
    STREAMING_END = "streaming_end"


class PluginMode(enum.StrEnum):
    """How a hook runs relative to the call that fired it."""

    SEQUENTIAL = "sequential"
    TRANSFORM = "transform"
    CONCURRENT = "concurrent"
    AUDIT = "audit"
    FIRE_AND_FORGET = "fire_and_forget"
