"""The built-in contexts and the compactors that bound what a `ChatContext` sends.

- `SimpleContext` (the default): the history is kept but never sent;
- `ChatContext`: the history is sent, bounded by `window_size=`, `compactor=`,
  `token_context_length_limit=` or the model's context length (see `.chat`);
- compactors (`.compactor`): `WindowCompactor`, `ThresholdCompactor`,
  `LLMSummarizeCompactor`, and the pin predicates choosing what is never compacted.
"""

from ...core.base import CBlock, Component
from ...core.context import Context, ContextTurn
from .chat import ChatContext
from .compactor import (
    Compactor,
    InlineCompactor,
    LLMSummarizeCompactor,
    PinPredicate,
    ThresholdCompactor,
    WindowCompactor,
    pin_nothing,
    pin_system,
    pin_system_and_initial_user,
)
from .simple import SimpleContext

__all__ = [
    "CBlock",
    "ChatContext",
    "Compactor",
    "Component",
    "Context",
    "ContextTurn",
    "InlineCompactor",
    "LLMSummarizeCompactor",
    "PinPredicate",
    "SimpleContext",
    "ThresholdCompactor",
    "WindowCompactor",
    "pin_nothing",
    "pin_system",
    "pin_system_and_initial_user",
]
