"""Token estimates for context budgets: about 4 characters per token, plus per-message overhead.

An estimate on purpose: budgets must be computed without a tokenizer (the HTTP backends
have none), and a cheap, deterministic figure is what windowing needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...core.context import ContextItem

CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD_TOKENS = 4
"""Role markers and separators a chat template adds around each message."""
MODEL_BUDGET_SHARE = 0.75
"""Share of a model's rated context length given to history; the rest is left for the
system prompt, tool schemas, the current action and the reply."""


def item_tokens(item: ContextItem) -> int:
    """Estimated tokens of one history item as it is sent."""
    from ...backends.formatter import to_message

    content = to_message(item).get("content") or ""
    text = content if isinstance(content, str) else str(content)
    return len(text) // CHARS_PER_TOKEN + MESSAGE_OVERHEAD_TOKENS


def estimate_tokens(items: Iterable[ContextItem]) -> int:
    """Estimated tokens of a history."""
    return sum(item_tokens(i) for i in items)


def model_context_length(model_id: Any) -> int | None:
    """The rated context length of a known model (a name or a `ModelIdentifier`), else None."""
    if model_id is None:
        return None
    from ...backends.context_lengths import get_context_length

    found = get_context_length(model_id)
    return found if isinstance(found, int) else None


def newest_within(items: list[ContextItem], budget: int) -> list[ContextItem]:
    """The newest items whose estimated tokens fit in `budget` (oldest first)."""
    kept: list[ContextItem] = []
    for item in reversed(items):
        cost = item_tokens(item)
        if cost > budget:
            break
        kept.append(item)
        budget -= cost
    kept.reverse()
    return kept


__all__ = ["estimate_tokens", "item_tokens", "model_context_length", "newest_within"]
