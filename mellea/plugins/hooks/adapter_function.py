"""Adapter function hook payloads (defined in `mellea.core.hooks.adapter_function`)."""

from ...core.hooks.adapter_function import (
    AdapterFunctionInvocationCompletePayload,
    AdapterFunctionPhaseCompletePayload,
)

__all__ = [
    "AdapterFunctionInvocationCompletePayload",
    "AdapterFunctionPhaseCompletePayload",
]
