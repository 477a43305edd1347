"""`Formatter`: turns components and blocks into the text a model sees.

Implementations live in `mellea.formatters` (`TemplateFormatter`, `ChatFormatter`).
"""

from __future__ import annotations

import abc
from typing import Any

from ._blocks import CBlock, Component


class Formatter(abc.ABC):
    """Renders a component, block or model output as prompt text."""

    @abc.abstractmethod
    def print(self, c: Component[Any] | CBlock) -> str:
        """The text of `c` as it goes into a prompt."""


__all__ = ["Formatter"]
