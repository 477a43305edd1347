"""The I/O portal (see `mellea._runtime.portal`, where it lives)."""

from .._runtime.portal import Portal, TaskHandle, get_portal, refuse_blocking_on_portal, run_sync

__all__ = ["Portal", "TaskHandle", "get_portal", "refuse_blocking_on_portal", "run_sync"]
