"""Components users build prompts from."""

from ...core.base import CBlock, Component, TemplateRepresentation
from ...core.message import Message, ToolMessage
from .instruction import Instruction
from .simple import SimpleComponent

__all__ = [
    "CBlock",
    "Component",
    "Instruction",
    "Message",
    "SimpleComponent",
    "TemplateRepresentation",
    "ToolMessage",
]
