"""Tool calls written as JSON in plain model text (models without native tool calling).

Models asked to call tools in prose usually write `{"name": ..., "arguments": {...}}`
(or OpenAI's `{"function": {"name": ..., "arguments": ...}}`) somewhere in their reply;
these helpers find such objects. Grammar-constrained replies use `tool_json` instead.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Mapping
from typing import Any

from ..core.thunk import ModelToolCall

_DECODER = json.JSONDecoder()
CODE_FIELDS = ("code", "command", "query", "script", "source")
"""Parameter names that hold executable content, most specific first."""


def json_extraction(text: str) -> Generator[dict[str, Any], None, None]:
    """Each JSON object in `text`, in order (text between or around them is skipped)."""
    start = text.find("{")
    while start != -1:
        try:
            value, end = _DECODER.raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict):
            yield value
        start = text.find("{", end)


def find_func(d: object) -> tuple[str | None, Mapping[str, Any] | None]:
    """The first `{"name": ..., "arguments"|"parameters": {...}}` record in a JSON value.

    Nested values are searched depth-first (so `{"function": {...}}` wrappers are found);
    returns `(None, None)` when there is none.
    """
    if isinstance(d, Mapping):
        name = d.get("name")
        args = d.get("arguments", d.get("parameters"))
        if isinstance(args, str):  # OpenAI sends arguments as JSON text
            try:
                args = json.loads(args)
            except ValueError:
                args = None
        if isinstance(name, str) and isinstance(args, Mapping):
            return name, args
        children: Any = d.values()
    elif isinstance(d, list):
        children = d
    else:
        return None, None
    for child in children:
        found = find_func(child)
        if found[0] is not None:
            return found
    return None, None


def parse_tools(llm_response: str) -> list[tuple[str, Mapping[str, Any]]]:
    """Every `(tool name, arguments)` written as JSON in a model's text reply."""
    calls: list[tuple[str, Mapping[str, Any]]] = []
    for obj in json_extraction(llm_response):
        name, args = find_func(obj)
        if name is not None and args is not None:
            calls.append((name, args))
    return calls


def get_code_field_from_schema(tool_call: ModelToolCall) -> str | None:
    """The parameter of the called tool that carries executable content, if any.

    Looks for the first of `CODE_FIELDS` among the tool's declared parameters (so
    `get_weather(location=...)` has none). Never raises: a tool without a readable
    schema gives None.
    """
    try:
        schema: Any = getattr(tool_call.func, "as_json_tool", None)
        if callable(schema):
            schema = schema()
        properties = schema["function"]["parameters"]["properties"]
    except (KeyError, TypeError, AttributeError):
        return None
    if not isinstance(properties, Mapping):
        return None
    return next((f for f in CODE_FIELDS if f in properties), None)


__all__ = [
    "CODE_FIELDS",
    "find_func",
    "get_code_field_from_schema",
    "json_extraction",
    "parse_tools",
]
