"""Hook points and execution modes: the names plugins register against."""

from __future__ import annotations

import enum

from ..core.hooks import HookType

__all__ = ["HookType", "PluginMode", "register_mellea_hooks"]


class PluginMode(enum.StrEnum):
    """How a hook runs relative to the operation that fired it.

    Hooks of one point run grouped by mode, in this order, each group by priority:

    - `SEQUENTIAL` — awaited one after another; each sees the payload the previous one
      left; may modify (writable fields only) and may block.
    - `TRANSFORM` — like SEQUENTIAL but cannot block (a block is logged and ignored).
    - `AUDIT` — awaited; modifications are discarded and a block is only logged.
    - `CONCURRENT` — awaited together; may block (the first block cancels the others),
      modifications are discarded.
    - `FIRE_AND_FORGET` — started in the background on mellea's I/O loop with the final
      payload; never delays the operation; cannot modify or block.

    In every mode a hook's exception (or a hook running past its timeout) is logged on
    the `mellea.plugins` logger and the operation continues.
    """

    SEQUENTIAL = "sequential"
    TRANSFORM = "transform"
    CONCURRENT = "concurrent"
    AUDIT = "audit"
    FIRE_AND_FORGET = "fire_and_forget"


def register_mellea_hooks() -> None:
    """Kept for compatibility: mellea's hook points need no registration step."""
