"""Short, one-line previews of prompts, outputs and requirements for the debug logs."""

from __future__ import annotations

from typing import Any

PREVIEW = 100


def preview(value: Any, limit: int = PREVIEW) -> str:
    """`value` as one line of at most `limit` characters."""
    text = " ".join(str(value if value is not None else "").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def prompt_text(action: Any) -> str:
    """What an action asks, for a preview (an instruction's description, a message's text)."""
    for attribute in ("description", "content", "value"):
        value = getattr(action, attribute, None)
        if isinstance(value, str) and value:
            return value
    return str(action)


def requirement_name(requirement: Any) -> str:
    """A requirement's description (or its type, for one without)."""
    return str(getattr(requirement, "description", None) or type(requirement).__name__)


def short_id(value: str | None) -> str:
    return (value or "?")[:12]
