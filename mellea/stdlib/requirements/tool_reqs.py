"""Requirements on the tool calls of an output: `uses_tool` and `tool_arg_validator`.

```python
m.instruct(
    "Use the code interpreter to compute 7 factorial.",
    requirements=[uses_tool("python"),
                  tool_arg_validator("must print the result", tool_name="python",
                                     arg_name="code", validation_fn=lambda c: "print" in c)],
    model_options={ModelOption.TOOLS: [python]},
    tool_calls=True,
)
```
Both are checked in code (no judge call) against `ctx.last_output().tool_calls`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ...core.context import Context
from ...core.requirement import Requirement, ValidationResult


def _tool_name(tool: str | Callable[..., Any]) -> str:
    if isinstance(tool, str):
        return tool
    return str(getattr(tool, "name", None) or getattr(tool, "__name__", repr(tool)))


def _calls(ctx: Context) -> list[Any]:
    output = ctx.last_output()
    return list((output.tool_calls or {}).values()) if output is not None else []


def uses_tool(tool_name: str | Callable[..., Any], check_only: bool = False) -> Requirement:
    """The output must call the tool `tool_name` (a name, or the tool / function itself)."""
    name = _tool_name(tool_name)

    def validate(ctx: Context) -> ValidationResult:
        called = [c.name for c in _calls(ctx)]
        if name in called:
            return ValidationResult(True, reason=f"the tool {name!r} was called")
        reason = f"the tool {name!r} was not called" + (
            f" (called: {', '.join(called)})" if called else " (no tool was called)"
        )
        return ValidationResult(False, reason=reason)

    return Requirement(f"Use the {name} tool.", validate, check_only=check_only)


def tool_arg_validator(
    description: str,
    tool_name: str | Callable[..., Any] | None,
    arg_name: str,
    validation_fn: Callable[[Any], Any],
    check_only: bool = False,
) -> Requirement:
    """Every call of `tool_name` (of any tool, if None) must pass `validation_fn(args[arg_name])`.

    `validation_fn` returns a bool (or a `ValidationResult`); a missing argument, a tool
    that was not called, or an exception in `validation_fn` fails the requirement.
    """
    name = _tool_name(tool_name) if tool_name is not None else None

    def validate(ctx: Context) -> ValidationResult:
        calls = [c for c in _calls(ctx) if name is None or c.name == name]
        if not calls:
            which = f"the tool {name!r}" if name else "no tool"
            return ValidationResult(False, reason=f"{which} was not called")
        for call in calls:
            if arg_name not in call.args:
                return ValidationResult(
                    False, reason=f"{call.name} was called without the argument {arg_name!r}"
                )
            verdict = validation_fn(call.args[arg_name])
            if inspect.isawaitable(verdict):
                raise TypeError("tool_arg_validator takes a synchronous validation_fn")
            ok = verdict.result if isinstance(verdict, ValidationResult) else bool(verdict)
            if not ok:
                return ValidationResult(
                    False,
                    reason=f"the {arg_name!r} argument of {call.name} fails: {description}",
                )
        return ValidationResult(True, reason=f"the {arg_name!r} argument passes: {description}")

    return Requirement(description, validate, check_only=check_only)


__all__ = ["tool_arg_validator", "uses_tool"]
