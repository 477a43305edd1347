"""Payload write policies: which fields of each hook point's payload a hook may change.

A modified payload returned by a SEQUENTIAL or TRANSFORM hook contributes only these
fields; changes to any other field are discarded (and logged at DEBUG). Hook points not
listed are observe-only. AUDIT, CONCURRENT and FIRE_AND_FORGET hooks never modify.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["MELLEA_HOOK_PAYLOAD_POLICIES", "writable_fields"]

MELLEA_HOOK_PAYLOAD_POLICIES: MappingProxyType[str, frozenset[str]] = MappingProxyType(
    {
        "session_pre_init": frozenset({"model_id", "model_options"}),
        "component_pre_execute": frozenset(
            {"requirements", "model_options", "format", "strategy", "tool_calls_enabled"}
        ),
        "generation_pre_call": frozenset({"model_options", "format", "tool_calls"}),
        "generation_batch_pre_call": frozenset({"model_options", "format", "tool_calls"}),
        "validation_pre_check": frozenset({"requirements", "model_options"}),
        "validation_post_check": frozenset({"results", "all_validations_passed"}),
        "sampling_loop_start": frozenset({"loop_budget"}),
        "tool_pre_invoke": frozenset({"model_tool_call"}),
        "tool_post_invoke": frozenset({"tool_output"}),
    }
)

_NONE: frozenset[str] = frozenset()


def writable_fields(hook_type: str) -> frozenset[str]:
    """The fields a hook on `hook_type` may change (empty: observe-only)."""
    return MELLEA_HOOK_PAYLOAD_POLICIES.get(hook_type, _NONE)
