"""Components users build prompts from."""

from typing import TYPE_CHECKING

from ..._lazy import lazy_getattr
from ...core.base import (
    AudioBlock,
    AudioUrlBlock,
    CBlock,
    Component,
    ComponentParseError,
    ImageBlock,
    ImageUrlBlock,
    TemplateRepresentation,
    blockify,
)
from ...core.thunk import ModelOutputThunk
from .chat import Message, ToolMessage, as_chat_history, as_generic_chat_history
from .docs import Document
from .instruction import Instruction
from .mify import MifiedProtocol, mify
from .mobject import MObject, MObjectProtocol, Query, Transform
from .simple import SimpleComponent

# `generative` pulls in the session machinery: loaded on first use.
__getattr__ = lazy_getattr(
    __name__,
    {
        "generative": "mellea.stdlib.components.genstub:generative",
        "GenerativeStub": "mellea.stdlib.components.genstub:GenerativeStub",
        "PreconditionException": "mellea.stdlib.components.genstub:PreconditionException",
    },
)

if TYPE_CHECKING:
    from .genstub import GenerativeStub, PreconditionException, generative

__all__ = [
    "AudioBlock",
    "AudioUrlBlock",
    "CBlock",
    "Component",
    "ComponentParseError",
    "Document",
    "GenerativeStub",
    "ImageBlock",
    "ImageUrlBlock",
    "Instruction",
    "MObject",
    "MObjectProtocol",
    "Message",
    "MifiedProtocol",
    "ModelOutputThunk",
    "PreconditionException",
    "Query",
    "SimpleComponent",
    "TemplateRepresentation",
    "ToolMessage",
    "Transform",
    "as_chat_history",
    "as_generic_chat_history",
    "blockify",
    "generative",
    "mify",
]
