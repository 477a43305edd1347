"""Tools the model may call: `MelleaTool`, the `@tool` decorator, and wire conversion.

A tool's JSON schema comes from its signature (types via pydantic) and its docstring (the
first paragraph describes the tool; a Google-style `Args:` section describes parameters).
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, overload

from ..core.errors import InvalidOptionError
from ..core.thunk import ModelToolCall

_ARG_LINE = re.compile(r"^\s{2,}(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


def _docstring_parts(fn: Callable[..., Any]) -> tuple[str, dict[str, str]]:
    doc = inspect.getdoc(fn) or ""
    summary = doc.split("\n\n", 1)[0].strip()
    params: dict[str, str] = {}
    in_args = False
    current: str | None = None
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped in ("Args:", "Arguments:", "Parameters:"):
            in_args, current = True, None
            continue
        if in_args:
            if stripped and not line.startswith(" "):
                break  # next section
            match = _ARG_LINE.match(line)
            if match:
                current = match.group(1).lstrip("*")
                params[current] = match.group(2).strip()
            elif current and stripped:
                params[current] += " " + stripped
    return summary, params


def _parameters_schema(fn: Callable[..., Any], arg_docs: Mapping[str, str]) -> dict[str, Any]:
    from pydantic import create_model

    fields: dict[str, Any] = {}
    hints = inspect.get_annotations(fn, eval_str=True)
    for name, param in inspect.signature(fn).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        annotation = hints.get(name, Any)
        default = ... if param.default is param.empty else param.default
        fields[name] = (annotation, default)
    model = create_model(f"{fn.__name__}_args", **fields)  # type: ignore[call-overload]
    schema = model.model_json_schema()
    schema.pop("title", None)
    for name, prop in schema.get("properties", {}).items():
        prop.pop("title", None)
        if name in arg_docs:
            prop["description"] = arg_docs[name]
    schema.setdefault("properties", {})
    return schema


class MelleaTool:
    """A callable offered to the model, with its name, description and JSON schema."""

    def __init__(
        self,
        name: str,
        func: Callable[..., Any],
        description: str = "",
        parameters: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.func = func
        self.description = description
        self.parameters = parameters or {"type": "object", "properties": {}}

    @classmethod
    def from_callable(cls, func: Callable[..., Any], name: str | None = None) -> MelleaTool:
        """Build the tool from a function's signature and docstring."""
        summary, arg_docs = _docstring_parts(func)
        return cls(name or func.__name__, func, summary, _parameters_schema(func, arg_docs))

    def as_json_tool(self) -> dict[str, Any]:
        """The OpenAI / Ollama `tools` entry."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"MelleaTool({self.name!r})"


@overload
def tool(func: Callable[..., Any], *, name: str | None = None) -> MelleaTool: ...
@overload
def tool(
    func: None = None, *, name: str | None = None
) -> Callable[[Callable[..., Any]], MelleaTool]: ...
def tool(
    func: Callable[..., Any] | None = None, *, name: str | None = None
) -> MelleaTool | Callable[[Callable[..., Any]], MelleaTool]:
    """Decorator: `@tool` or `@tool(name="...")` turns a function into a `MelleaTool`."""
    if func is None:
        return lambda f: MelleaTool.from_callable(f, name)
    return MelleaTool.from_callable(func, name)


def normalize_tools(value: Sequence[Any] | Mapping[str, Any] | None) -> dict[str, MelleaTool]:
    """`ModelOption.TOOLS` (list or name->tool dict of tools or plain callables) by name."""
    if not value:
        return {}
    items: list[tuple[str | None, Any]] = (
        list(value.items()) if isinstance(value, Mapping) else [(None, v) for v in value]
    )
    tools: dict[str, MelleaTool] = {}
    for key, item in items:
        if isinstance(item, MelleaTool):
            t = (
                item
                if key in (None, item.name)
                else MelleaTool(key, item.func, item.description, item.parameters)
            )
        elif callable(item):
            t = MelleaTool.from_callable(item, key)
        else:
            raise InvalidOptionError(f"ModelOption.TOOLS entries must be callables, got {item!r}")
        tools[t.name] = t
    return tools


def parse_tool_call(
    name: str,
    arguments: str | Mapping[str, Any] | None,
    tools: Mapping[str, MelleaTool],
    call_id: str | None = None,
) -> ModelToolCall:
    """A model's tool call (arguments as JSON text or object) as a `ModelToolCall`."""
    if isinstance(arguments, str):
        try:
            args = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            args = {"__raw_arguments__": arguments}
    else:
        args = dict(arguments or {})
    if not isinstance(args, dict):
        args = {"__raw_arguments__": args}
    found = tools.get(name)
    return ModelToolCall(name, found.func if found else None, args, call_id)


__all__ = ["MelleaTool", "normalize_tools", "parse_tool_call", "tool"]
