"""Finding the Python program in a model's output (fenced blocks, or a tool call's code)."""

from __future__ import annotations

import ast
import re
from typing import Any

from ...core.context import Context

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.DOTALL)
_PYTHON_TAGS = frozenset({"python", "py", "python3", ""})
CODE_ARGUMENTS = ("code", "source", "program", "script", "python")
"""Tool-call arguments that carry code, in the order they are looked for."""


def _score(block: str) -> tuple[int, int]:
    """Prefer blocks that parse, then the ones with the most statements."""
    try:
        return 1, len(ast.parse(block).body)
    except SyntaxError:
        return 0, block.count("\n")


def extract_python(text: str) -> str | None:
    """The Python program in `text`: the best fenced block (python or untagged); else the
    whole text when it parses as Python with more than a bare expression; else None."""
    found: list[tuple[str, str]] = _FENCE.findall(text)
    blocks = [body.strip() for tag, body in found if tag.lower() in _PYTHON_TAGS and body.strip()]
    if blocks:
        return max(blocks, key=_score)  # max() keeps the first of equals
    stripped = text.strip()
    if not stripped or "```" in stripped:
        return None
    try:
        tree = ast.parse(stripped)
    except SyntaxError:
        return None
    if all(
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Name | ast.Constant)
        for node in tree.body
    ):
        return None  # prose that happens to parse ("hello", "42")
    return stripped


def code_from_tool_calls(tool_calls: Any) -> str | None:
    """The code argument of the output's first tool call that has one."""
    calls = list(tool_calls.values()) if isinstance(tool_calls, dict) else list(tool_calls or [])
    for call in calls:
        args = getattr(call, "args", None) or {}
        for name in CODE_ARGUMENTS:
            value = args.get(name)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


def code_in(ctx: Context) -> tuple[str | None, str]:
    """(the code of the context's last output, or None; why none was found)."""
    output = ctx.last_output()
    if output is None:
        return None, "there is no output to check"
    code = code_from_tool_calls(output.tool_calls)
    if code is not None:
        return code, ""
    code = extract_python(output.value or "")
    if code is None:
        return None, "No Python code found: put the program in a ```python fenced block."
    return code, ""


__all__ = ["CODE_ARGUMENTS", "code_from_tool_calls", "code_in", "extract_python"]
