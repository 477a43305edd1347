"""Jinja2 rendering of `{{ variable }}` prompts (jinja2 is imported only when used)."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2

    # StrictUndefined: a missing variable is an error, never a silently empty prompt.
    return jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


@lru_cache(maxsize=256)
def _compile(source: str) -> jinja2.Template:
    return _environment().from_string(source)


def render(source: str, variables: dict[str, Any]) -> str:
    """Render `source` with `variables`; raises ValueError naming a missing variable."""
    import jinja2

    try:
        return _compile(source).render(**variables)
    except jinja2.UndefinedError as exc:
        raise ValueError(f"prompt template variable missing: {exc.message}") from exc
