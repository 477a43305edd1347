"""Every hook point's payload class (one module per category; the classes live in
`mellea.core.hooks`, which the library's call sites use)."""

from .adapter_function import (
    AdapterFunctionInvocationCompletePayload,
    AdapterFunctionPhaseCompletePayload,
)
from .component import (
    ComponentPostErrorPayload,
    ComponentPostSuccessPayload,
    ComponentPreExecutePayload,
)
from .generation import (
    GenerationBatchErrorPayload,
    GenerationBatchPostCallPayload,
    GenerationBatchPreCallPayload,
    GenerationErrorPayload,
    GenerationEventPayload,
    GenerationPostCallPayload,
    GenerationPreCallPayload,
)
from .sampling import (
    SamplingIterationPayload,
    SamplingLoopEndPayload,
    SamplingLoopStartPayload,
    SamplingRepairPayload,
)
from .session import (
    SessionCleanupPayload,
    SessionPostInitPayload,
    SessionPreInitPayload,
    SessionResetPayload,
)
from .streaming import StreamingEndPayload, StreamingEventPayload, StreamingStartPayload
from .tool import ToolPostInvokePayload, ToolPreInvokePayload
from .validation import ValidationPostCheckPayload, ValidationPreCheckPayload

__all__ = [
    "AdapterFunctionInvocationCompletePayload",
    "AdapterFunctionPhaseCompletePayload",
    "ComponentPostErrorPayload",
    "ComponentPostSuccessPayload",
    "ComponentPreExecutePayload",
    "GenerationBatchErrorPayload",
    "GenerationBatchPostCallPayload",
    "GenerationBatchPreCallPayload",
    "GenerationErrorPayload",
    "GenerationEventPayload",
    "GenerationPostCallPayload",
    "GenerationPreCallPayload",
    "SamplingIterationPayload",
    "SamplingLoopEndPayload",
    "SamplingLoopStartPayload",
    "SamplingRepairPayload",
    "SessionCleanupPayload",
    "SessionPostInitPayload",
    "SessionPreInitPayload",
    "SessionResetPayload",
    "StreamingEndPayload",
    "StreamingEventPayload",
    "StreamingStartPayload",
    "ToolPostInvokePayload",
    "ToolPreInvokePayload",
    "ValidationPostCheckPayload",
    "ValidationPreCheckPayload",
]
