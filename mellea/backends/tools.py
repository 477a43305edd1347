"""Tools the model may call: `MelleaTool`, the `@tool` decorator, and wire conversion.

A tool's JSON schema comes from its signature (types via pydantic) and its docstring (the
first paragraph describes the tool; a Google-style `Args:` section describes parameters).

Backends use: `normalize_tools` (the `ModelOption.TOOLS` value, plus tools a component
offers, by name), `MelleaTool.as_json_tool()` (the OpenAI / Ollama `tools` entry),
`parse_tool_call` (a native tool call, arguments as JSON text or object) and
`add_tool_call`. Engines without native tool calling use `tool_call_schema`,
`tools_prompt` and `parse_tool_reply` (grammar-constrained JSON tool calls; defined in
`mellea.backends.tool_json`, re-exported here).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

from .._lazy import lazy_getattr
from ..core.errors import InvalidOptionError, ToolArgumentsError
from ..core.thunk import ModelToolCall
from ._tool_schema import tool_spec

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ..core.base import CBlock, Component
    from .tool_json import ToolReply, parse_tool_reply, tool_call_schema, tools_prompt


def _is_async_callable(func: Callable[..., Any]) -> bool:
    while isinstance(func, functools.partial):
        func = func.func
    if inspect.iscoroutinefunction(func):
        return True
    call = getattr(func, "__call__", None)  # noqa: B004 - callable objects with async __call__
    return call is not None and inspect.iscoroutinefunction(call)


class MelleaTool:
    """A callable offered to the model, with its name, description and JSON schema.

    `tool.run(...)` calls it directly; `await tool.arun(**args)` awaits an async tool or runs
    a sync one in a worker thread; `tool.validate_args(args)` checks (and coerces) a model's
    arguments against the parameters, raising `ToolArgumentsError`.
    """

    def __init__(
        self,
        name: str,
        func: Callable[..., Any],
        description: str = "",
        parameters: dict[str, Any] | None = None,
        *,
        args_model: type[BaseModel] | None = None,
    ) -> None:
        self.name = name
        self.func = func
        self.description = description
        self.parameters = parameters or {"type": "object", "properties": {}}
        self._args_model = args_model

    @classmethod
    def from_callable(cls, func: Callable[..., Any], name: str | None = None) -> MelleaTool:
        """Build the tool from a function's (or bound method's) signature and docstring."""
        if isinstance(func, MelleaTool):
            return func if name in (None, func.name) else func.renamed(name)  # type: ignore[arg-type]
        tool_name = name or getattr(func, "__name__", None) or type(func).__name__
        summary, model, schema = tool_spec(func, tool_name)
        return cls(tool_name, func, summary, schema, args_model=model)

    @classmethod
    def from_langchain(cls, lc_tool: Any) -> MelleaTool:
        """Wrap a LangChain tool (`name`, `description`, `args_schema`/`args`, `invoke`)."""
        params: dict[str, Any] = {"type": "object", "properties": {}}
        args_schema = getattr(lc_tool, "args_schema", None)
        if args_schema is not None and hasattr(args_schema, "model_json_schema"):
            params = args_schema.model_json_schema()
            params.pop("title", None)
        elif isinstance(getattr(lc_tool, "args", None), dict):
            params = {"type": "object", "properties": dict(lc_tool.args)}

        def call(**kwargs: Any) -> Any:
            return lc_tool.invoke(kwargs)

        call.__name__ = str(lc_tool.name)
        return cls(str(lc_tool.name), call, str(getattr(lc_tool, "description", "")), params)

    @classmethod
    def from_smolagents(cls, sa_tool: Any) -> MelleaTool:
        """Wrap a smolagents tool (`name`, `description`, `inputs`, `forward`)."""
        props: dict[str, Any] = {}
        required: list[str] = []
        for pname, spec in dict(getattr(sa_tool, "inputs", {}) or {}).items():
            spec = dict(spec)
            kind = spec.get("type", "string")
            props[pname] = {"type": "number" if kind == "any" else kind}
            if spec.get("description"):
                props[pname]["description"] = spec["description"]
            if not spec.get("nullable"):
                required.append(pname)
        params = {"type": "object", "properties": props, "required": required}
        func = getattr(sa_tool, "forward", sa_tool)
        return cls(str(sa_tool.name), func, str(getattr(sa_tool, "description", "")), params)

    def renamed(self, name: str) -> MelleaTool:
        """The same tool under another name."""
        return MelleaTool(
            name, self.func, self.description, self.parameters, args_model=self._args_model
        )

    @property
    def is_async(self) -> bool:
        """True if calling the tool returns an awaitable (an `async def` tool)."""
        return _is_async_callable(self.func)

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

    def validate_args(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """The model's arguments checked against the parameters, coerced to their types.

        Raises `ToolArgumentsError` listing every problem (missing, unknown, wrong type).
        """
        if not isinstance(args, Mapping):
            raise ToolArgumentsError(
                f"tool {self.name!r} takes a JSON object of arguments, got {args!r:.200}",
                tool_name=self.name,
                errors=["arguments are not a JSON object"],
            )
        if self._args_model is None:
            return self._check_against_schema(args)
        from pydantic import ValidationError

        try:
            validated = self._args_model.model_validate(dict(args))
        except ValidationError as exc:
            errors = [
                f"{'.'.join(str(p) for p in e['loc']) or '(arguments)'}: {e['msg']}"
                for e in exc.errors()
            ]
            raise ToolArgumentsError(
                f"invalid arguments for tool {self.name!r}: " + "; ".join(errors),
                tool_name=self.name,
                errors=errors,
            ) from None
        # Only what the model passed (the function's own defaults apply to the rest);
        # attribute access keeps nested pydantic values as model instances.
        out = {k: getattr(validated, k) for k in validated.model_fields_set}
        out.update(validated.model_extra or {})
        return out

    def _check_against_schema(self, args: Mapping[str, Any]) -> dict[str, Any]:
        props = self.parameters.get("properties") or {}
        errors = [f"{r}: missing" for r in self.parameters.get("required", ()) if r not in args]
        if self.parameters.get("additionalProperties") is False:
            errors += [f"{k}: unexpected argument" for k in args if k not in props]
        if errors:
            raise ToolArgumentsError(
                f"invalid arguments for tool {self.name!r}: " + "; ".join(errors),
                tool_name=self.name,
                errors=errors,
            )
        return dict(args)

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """Call the tool directly (no validation; an async tool returns its coroutine)."""
        return self.func(*args, **kwargs)

    async def arun(self, **kwargs: Any) -> Any:
        """Call the tool without blocking the event loop: awaited if async, else in a thread."""
        if self.is_async:
            return await self.func(**kwargs)
        result = await asyncio.to_thread(self.func, **kwargs)
        if inspect.isawaitable(result):  # a sync wrapper around a coroutine function
            return await result
        return result

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
            t = item if key in (None, item.name) else item.renamed(key)  # type: ignore[arg-type]
        elif callable(item):
            t = MelleaTool.from_callable(item, key)
        else:
            raise InvalidOptionError(f"ModelOption.TOOLS entries must be callables, got {item!r}")
        tools[t.name] = t
    return tools


def action_tools(action: Component[Any] | CBlock) -> dict[str, MelleaTool]:
    """Tools a component offers through its `TemplateRepresentation.tools` (e.g. an MObject's
    methods in a query/transform); engines add them when `tool_calls=True`."""
    from ..core.base import Component, TemplateRepresentation

    if not isinstance(action, Component):
        return {}
    try:
        rep = action.format_for_llm()
    except Exception:  # rendering problems surface later, where the prompt is built
        return {}
    if not isinstance(rep, TemplateRepresentation) or not rep.tools:
        return {}
    return normalize_tools(rep.tools)


def parse_tool_call(
    name: str,
    arguments: str | Mapping[str, Any] | None,
    tools: Mapping[str, MelleaTool],
    call_id: str | None = None,
) -> ModelToolCall:
    """A model's tool call (arguments as JSON text or object) as a `ModelToolCall`.

    `func` is the offered `MelleaTool` (None for a tool that was not offered). Arguments
    that are not a JSON object are kept under `"__raw_arguments__"`; `call_tools` reports
    them back to the model as an error instead of calling the tool.
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
    def args(self) -> dict[str, Any]:
        return self.call.args

    @property
    def func(self) -> Callable[..., Any] | None:
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


# Re-exported lazily: tool_json imports this module.
__getattr__ = lazy_getattr(
    __name__,
    {
        name: f"mellea.backends.tool_json:{name}"
        for name in ("ToolReply", "parse_tool_reply", "tool_call_schema", "tools_prompt")
    },
)

__all__ = [
    "MelleaTool",
    "ToolCallName",
    "ToolReply",
    "action_tools",
    "add_tool_call",
    "normalize_tools",
    "parse_tool_call",
    "parse_tool_reply",
    "tool",
    "tool_call_schema",
    "tools_prompt",
]
