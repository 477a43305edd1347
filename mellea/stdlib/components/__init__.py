"""Components users build prompts from."""

from typing import TYPE_CHECKING

from ..._lazy import lazy_getattr
from ...core.base import CBlock, Component, TemplateRepresentation
from ...core.message import Message, ToolMessage
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
    "CBlock",
    "Component",
    "GenerativeStub",
    "Instruction",
    "MObject",
    "MObjectProtocol",
    "Message",
    "MifiedProtocol",
    "PreconditionException",
    "Query",
    "SimpleComponent",
    "TemplateRepresentation",
    "ToolMessage",
    "Transform",
    "generative",
    "mify",
]
