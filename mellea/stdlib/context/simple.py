"""`SimpleContext`: every generation sees only its own action.

The history is kept (`as_list()`, `last_output()`, `last_turn()` work, validation reads the
last output), but none of it is sent. Content a program adds itself (`ctx.add(...)`)
therefore never reaches the model: the first time that happens a warning says so, once per
process. The turns sessions and backends record are not warned about.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from ...core.backend import Backend
from ...core.context import Context, ContextItem

if TYPE_CHECKING:
    from typing import Self

logger = logging.getLogger("mellea")

USER_ADD_WARNING = (
    "content added to a SimpleContext is kept in its history but never sent to the model "
    "(SimpleContext sends no history); use ChatContext() for history the model should see"
)
_warned_user_add = False


def _added_by_mellea(depth: int) -> bool:
    """Whether the caller `depth` frames up is mellea itself or a backend recording a turn.

    Those are the session's own turns; anything else is a program adding content directly.
    """
    try:
        frame = sys._getframe(depth + 1)
    except ValueError:  # pragma: no cover - no such frame
        return False
    module = frame.f_globals.get("__name__", "")
    if module == "mellea" or module.startswith("mellea."):
        return True
    # A user-defined backend records its turns like ours do: ctx.add(action).add(output).
    return isinstance(frame.f_locals.get("self"), Backend)


class SimpleContext(Context):
    """Each call sees only its own action: the history is kept but never sent."""

    __slots__ = ()
    _is_chat_context = False

    def add(self, c: ContextItem) -> Self:
        """A new context: this history followed by `c` (which no generation will be sent)."""
        global _warned_user_add
        if not _warned_user_add and not _added_by_mellea(1):
            _warned_user_add = True
            logger.warning(USER_ADD_WARNING)
        return super().add(c)

    def _add_turn(self, action: ContextItem, output: ContextItem) -> Self:
        if type(self).add is not SimpleContext.add:  # a subclass's own add() decides
            return self.add(action).add(output)
        # A backend's turn: no user-content warning, so no look at the caller's frame.
        cls = type(self)
        return cls.from_previous(cls.from_previous(self, action), output)

    def view_for_generation(self) -> list[ContextItem]:
        """Always empty: no history is sent."""
        return []


__all__ = ["USER_ADD_WARNING", "SimpleContext"]
