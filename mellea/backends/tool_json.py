"""Tool calling through grammar-constrained JSON, for engines without native tool calls.

An engine that can constrain its output to a JSON schema (the embedded llama.cpp engine)
offers tools like this:

```python
from mellea.backends.tool_json import tool_call_schema, tools_prompt, parse_tool_reply

schema = tool_call_schema(call.tools, allow_text=True)   # constrain decoding to this
system = tools_prompt(call.tools, allow_text=True)       # tell the model what it may call
...generate `text` under the schema...
reply = parse_tool_reply(text, call.tools)               # -> ToolReply
mot.tool_calls = reply.tool_calls or None                # name -> ModelToolCall
visible_text = reply.text                                 # the answer, if it chose to answer
```

The reply shapes (one `anyOf` branch per tool, so the grammar also constrains *that tool's*
arguments):

- a call: `{"name": "<tool>", "arguments": {...that tool's parameters...}}`
- several calls (`parallel=True`): `{"tool_calls": [<call>, ...]}`
- a plain answer (`allow_text=True`): `{"response": "<text>"}`
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.errors import ComponentParseError
from ..core.thunk import ModelToolCall

if TYPE_CHECKING:
    from .tools import MelleaTool

_DEFS_PREFIX = "#/$defs/"


def _as_dict(
    tools: Mapping[str, MelleaTool[..., Any]] | Sequence[MelleaTool[..., Any]],
) -> dict[str, MelleaTool[..., Any]]:
    if isinstance(tools, Mapping):
        return dict(tools)
    return {t.name: t for t in tools}


def _rewrite_refs(node: Any, rename: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_DEFS_PREFIX):
                target = value[len(_DEFS_PREFIX) :]
                out[key] = _DEFS_PREFIX + rename.get(target, target)
            else:
                out[key] = _rewrite_refs(value, rename)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, rename) for v in node]
    return node


def _call_branch(t: MelleaTool[..., Any], defs: dict[str, Any]) -> dict[str, Any]:
    """The schema of one call of `t`; its `$defs` are hoisted (renamed per tool) into
    `defs`, because a `$ref` resolves against the root of the whole document."""
    params = copy.deepcopy(t.parameters) or {"type": "object", "properties": {}}
    local_defs = params.pop("$defs", None) or {}
    rename = {name: f"{t.name}__{name}" for name in local_defs}
    for name, sub in local_defs.items():
        defs[rename[name]] = _rewrite_refs(sub, rename)
    params = _rewrite_refs(params, rename)
    params.setdefault("type", "object")
    return {
        "type": "object",
        "properties": {"name": {"const": t.name}, "arguments": params},
        "required": ["name", "arguments"],
        "additionalProperties": False,
    }


def tool_call_schema(
    tools: Mapping[str, MelleaTool[..., Any]] | Sequence[MelleaTool[..., Any]],
    *,
    allow_text: bool = False,
    parallel: bool = False,
) -> dict[str, Any]:
    """The JSON schema of a reply that calls one of `tools` (see the module docstring).

    `allow_text`: the model may answer `{"response": "..."}` instead of calling a tool.
    `parallel`: calls come as `{"tool_calls": [...]}` (one or more).
    """
    by_name = _as_dict(tools)
    if not by_name:
        raise ValueError("tool_call_schema needs at least one tool")
    defs: dict[str, Any] = {}
    branches = [_call_branch(t, defs) for t in by_name.values()]
    call: dict[str, Any] = branches[0] if len(branches) == 1 else {"anyOf": branches}
    if parallel:
        call = {
            "type": "object",
            "properties": {"tool_calls": {"type": "array", "items": call, "minItems": 1}},
            "required": ["tool_calls"],
            "additionalProperties": False,
        }
    schema: dict[str, Any] = call
    if allow_text:
        text_branch = {
            "type": "object",
            "properties": {"response": {"type": "string"}},
            "required": ["response"],
            "additionalProperties": False,
        }
        schema = {"anyOf": [call, text_branch]}
    if defs:
        schema = {**schema, "$defs": defs}
    return schema


def tools_prompt(
    tools: Mapping[str, MelleaTool[..., Any]] | Sequence[MelleaTool[..., Any]],
    *,
    allow_text: bool = False,
    parallel: bool = False,
) -> str:
    """A system-prompt paragraph describing the tools and the JSON reply format."""
    by_name = _as_dict(tools)
    lines = ["You can call these tools:"]
    for t in by_name.values():
        params = json.dumps(t.parameters, separators=(",", ":"))
        lines.append(f"- {t.name}: {t.description or '(no description)'} Parameters: {params}")
    call = '{"name": "<tool name>", "arguments": {<parameters>}}'
    if parallel:
        call = '{"tool_calls": [' + call + ", ...]}"
    lines.append(f"To call a tool, reply with only the JSON {call}.")
    if allow_text:
        lines.append('To answer directly instead, reply with only {"response": "<your answer>"}.')
    return "\n".join(lines)


@dataclass
class ToolReply:
    """A parsed constrained reply: the calls it makes, or the text it answers with."""

    tool_calls: dict[str, ModelToolCall] = field(default_factory=dict)
    text: str | None = None


def parse_tool_reply(
    text: str, tools: Mapping[str, MelleaTool[..., Any]] | Sequence[MelleaTool[..., Any]]
) -> ToolReply:
    """Parse a reply generated under `tool_call_schema(tools, ...)`.

    Accepts every shape the schema allows (and a bare list of calls). Calls of tools that
    were not offered keep `func=None` (`call_tools` reports them to the model). Raises
    `ComponentParseError` if the text is not such a reply.
    """
    from .tools import add_tool_call, parse_tool_call

    by_name = _as_dict(tools)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ComponentParseError(
            f"the tool-call reply is not JSON: {exc}", partial_output=text
        ) from None
    if isinstance(data, dict) and set(data) == {"response"}:
        return ToolReply(text=str(data["response"]))
    raw_calls = data.get("tool_calls") if isinstance(data, dict) and "tool_calls" in data else data
    if isinstance(raw_calls, dict):
        raw_calls = [raw_calls]
    if not isinstance(raw_calls, list) or not raw_calls:
        raise ComponentParseError(
            f"the tool-call reply has no tool call: {text[:200]!r}", partial_output=text
        )
    calls: dict[str, ModelToolCall] = {}
    for i, raw in enumerate(raw_calls):
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise ComponentParseError(
                f"tool call {i} has no tool name: {raw!r:.200}", partial_output=text
            )
        args = raw.get("arguments", raw.get("parameters"))
        tc = parse_tool_call(raw["name"], args, by_name, f"call_{i}")
        calls = add_tool_call(calls, tc)
    return ToolReply(tool_calls=calls)


__all__ = ["ToolReply", "parse_tool_reply", "tool_call_schema", "tools_prompt"]
