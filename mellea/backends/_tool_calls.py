"""A model's tool calls as `ModelToolCall`s: parsing, and keeping repeated names apart."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..core.thunk import ModelToolCall


def parse_tool_call(
    name: str,
    arguments: str | Mapping[str, Any] | None,
    tools: Mapping[str, Any],
    call_id: str | None = None,
) -> ModelToolCall:
    """A model's tool call (arguments as JSON text or object) as a `ModelToolCall`.

    `func` is the offered tool (None for a tool that was not offered). Arguments that are
    not a JSON object are kept under `"__raw_arguments__"`; `call_tools` reports them back
    to the model as an error instead of calling the tool.
    """
    if isinstance(arguments, str):
        try:
            args = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            args = {"__raw_arguments__": arguments}
    else:
        args = dict(arguments or {})
    if not isinstance(args, dict):
        args = {"__raw_arguments__": args}
    return ModelToolCall(name, tools.get(name), args, call_id)


class ToolCallName(str):
    """A key of `mot.tool_calls`: the tool's name, which also gives access to its call.

    Mellea's docs use both `for name, call in mot.tool_calls.items()` and
    `for call in mot.tool_calls: call.name, call.args, call.call_func()`; with these keys
    both work, while `mot.tool_calls` stays a plain name -> `ModelToolCall` dict.
    """

    call: ModelToolCall

    def __new__(cls, key: str, call: ModelToolCall) -> ToolCallName:
        self = super().__new__(cls, key)
        self.call = call
        return self

    @property
    def name(self) -> str:
        return self.call.name

    @property
    def args(self) -> Mapping[str, Any]:
        return self.call.args

    @property
    def func(self) -> Any:
        """The offered tool (a `MelleaTool` or a callable), None if none was offered."""
        return self.call.func

    @property
    def call_id(self) -> str | None:
        return self.call.call_id

    def call_func(self) -> Any:
        return self.call.call_func()


def add_tool_call(
    calls: dict[str, ModelToolCall] | None, call: ModelToolCall
) -> dict[str, ModelToolCall]:
    """`calls` plus `call`, keyed by tool name; a repeated name (two calls of one tool in a
    reply) gets `name#2`, `name#3`, ... so no call is lost (`call.name` stays the tool name)."""
    out = dict(calls or {})
    key, n = call.name, 1
    while key in out:
        n += 1
        key = f"{call.name}#{n}"
    out[ToolCallName(key, call)] = call
    return out


__all__ = ["ToolCallName", "add_tool_call", "parse_tool_call"]
