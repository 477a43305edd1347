"""Markdown checks, parsed with a CommonMark parser (`markdown-it-py`), not regexes.

- `is_markdown_list` / `is_markdown_table` — requirements: the output *is* a list / has
  a table (checked in code);
- `as_markdown_list(ctx)` — the items of the output's lists, or None if it has none.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from ...core.context import Context
from ...core.requirement import Requirement, ValidationResult

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


@cache
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


def _tokens(ctx: Context) -> list[Any]:
    output = ctx.last_output()
    return list(_parser().parse(output.value or "")) if output is not None else []


def as_markdown_list(ctx: Context) -> list[str] | None:
    """The text of every item of the output's top-level lists, or None when there is none."""
    items: list[str] = []
    depth = 0
    for token in _tokens(ctx):
        if token.type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
        elif token.type == "list_item_open" and depth == 1:
            items.append("")
        elif token.type == "inline" and depth >= 1 and items:
            items[-1] = f"{items[-1]}\n{token.content}".strip()
    return items or None


def _is_list(ctx: Context) -> ValidationResult:
    tokens = [t for t in _tokens(ctx) if t.level == 0 and not t.type.endswith("_close")]
    lists = [t for t in tokens if t.type in ("bullet_list_open", "ordered_list_open")]
    if not lists:
        return ValidationResult(False, reason="The response has no Markdown list.", context=ctx)
    others = [t for t in tokens if t.type not in ("bullet_list_open", "ordered_list_open")]
    if others:
        return ValidationResult(
            False, context=ctx, reason="The response has text outside its Markdown list."
        )
    return ValidationResult(True, reason="The response is a Markdown list.", context=ctx)


def _has_table(ctx: Context) -> ValidationResult:
    if any(t.type == "table_open" for t in _tokens(ctx)):
        return ValidationResult(True, reason="The response has a Markdown table.", context=ctx)
    return ValidationResult(False, reason="The response has no Markdown table.", context=ctx)


is_markdown_list = Requirement("The response should be formatted as a Markdown list.", _is_list)
is_markdown_table = Requirement("The output should be formatted as a Markdown table.", _has_table)

__all__ = ["as_markdown_list", "is_markdown_list", "is_markdown_table"]
