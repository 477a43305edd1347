"""Session hook payloads (defined in `mellea.core.hooks.session`)."""

from ...core.hooks.session import (
    SessionCleanupPayload,
    SessionPostInitPayload,
    SessionPreInitPayload,
    SessionResetPayload,
)

__all__ = [
    "SessionCleanupPayload",
    "SessionPostInitPayload",
    "SessionPreInitPayload",
    "SessionResetPayload",
]
