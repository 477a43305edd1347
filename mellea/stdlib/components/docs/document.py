"""`Document`: a plain-text reference document for a prompt.

Attach documents to a message (`Message(..., documents=[Document(...)])`, rendered after its
content) or pass one as grounding context to an `Instruction`.
"""

from ....core.message import Document

__all__ = ["Document"]
