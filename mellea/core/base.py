"""The data model under its reference path: blocks, components, thunks, contexts, media.

Each name is defined in one module of `mellea.core` (`_blocks`, `thunk`, `computed`,
`generation`, `context`, `media`) and gathered here; `blockify` lives here.
"""

from __future__ import annotations

from typing import Any

from ._blocks import (
    AbstractMelleaTool,
    C,
    CBlock,
    Component,
    ComponentParseError,
    P,
    R,
    S,
    TemplateRepresentation,
)
from .computed import ComputedModelOutputThunk
from .context import Context, ContextT, ContextTurn, ContextTypeMismatchError, Span
from .generation import (
    GenerateLog,
    GenerateType,
    GenerationMetadata,
    ModelToolCall,
    RawProviderResponse,
)
from .media import (
    AudioBlock,
    AudioUrlBlock,
    ImageBlock,
    ImageUrlBlock,
    get_audio_from_component,
    get_images_from_component,
    make_image_block,
)
from .thunk import ModelOutputThunk


def blockify(s: str | Component[Any] | CBlock) -> Component[Any] | CBlock:
    """A string as a `CBlock`; blocks, components and thunks unchanged."""
    if isinstance(s, str):
        return CBlock(s)
    if isinstance(s, CBlock | Component):
        return s
    raise TypeError(f"expected a str, CBlock, Component or thunk, got {type(s).__name__}")


__all__ = [
    "AbstractMelleaTool",
    "AudioBlock",
    "AudioUrlBlock",
    "C",
    "CBlock",
    "Component",
    "ComponentParseError",
    "ComputedModelOutputThunk",
    "Context",
    "ContextT",
    "ContextTurn",
    "ContextTypeMismatchError",
    "GenerateLog",
    "GenerateType",
    "GenerationMetadata",
    "ImageBlock",
    "ImageUrlBlock",
    "ModelOutputThunk",
    "ModelToolCall",
    "P",
    "R",
    "RawProviderResponse",
    "S",
    "Span",
    "TemplateRepresentation",
    "blockify",
    "get_audio_from_component",
    "get_images_from_component",
    "make_image_block",
]
