"""Documents a prompt can carry (`Document`: plain text with a title and id)."""

from .document import Document

__all__ = ["Document"]
