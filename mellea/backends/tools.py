"""Tools the model may call: `MelleaTool`, the `@tool` decorator, and wire conversion.

A tool's JSON schema comes from its signature (types via pydantic) and its docstring (the
first paragraph describes the tool; a Google-style `Args:` section describes parameters).

Backends use `normalize_tools` (the `ModelOption.TOOLS` value by name), `action_tools`
(tools a component offers), `MelleaTool.as_json_tool` (the OpenAI / Ollama `tools`
entry), `parse_tool_call` and `add_tool_call`. Engines without native tool calling use
`tool_call_schema`, `tools_prompt` and `parse_tool_reply` (grammar-constrained JSON tool
calls, from `mellea.backends.tool_json`); tool calls written as JSON in free text are
found by `parse_tools`. Argument checking: `validate_tool_arguments`.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast, overload

from .._lazy import lazy_getattr
from ..core._blocks import AbstractMelleaTool
from ..core.errors import InvalidOptionError
from ._tool_args import check_arguments, validate_tool_arguments
from ._tool_calls import ToolCallName, add_tool_call, parse_tool_call
from ._tool_schema import tool_spec
from ._tool_text import find_func, get_code_field_from_schema, json_extraction, parse_tools

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ..core.base import CBlock, Component
    from ._ollama_tool import OllamaTool, SubscriptableBaseModel, convert_function_to_ollama_tool
    from .tool_json import ToolReply, parse_tool_reply, tool_call_schema, tools_prompt

P = ParamSpec("P")
"""The parameters of a tool's callable."""
R = TypeVar("R")
"""What a tool's callable returns."""


def _is_async_callable(func: Callable[..., Any]) -> bool:
    while isinstance(func, functools.partial):
        func = func.func
    if inspect.iscoroutinefunction(func):
        return True
    call = getattr(func, "__call__", None)  # noqa: B004 - callable objects with async __call__
    return call is not None and inspect.iscoroutinefunction(call)


class MelleaTool(AbstractMelleaTool[P, R]):
    """A callable offered to the model, with its name, description and JSON schema.

    `MelleaTool(name, tool_call, as_json_tool)` wraps a callable under a given schema
    (the OpenAI `{"type": "function", "function": {...}}` entry); `from_callable` (or
    `@tool`) derives the schema from the callable itself. `tool.run(...)` calls it;
    `await tool.arun(**args)` awaits an async tool or runs a sync one in a worker thread;
    `tool.validate_args(args)` checks (and coerces) a model's arguments, raising
    `ToolArgumentsError`.
    """

    def __init__(
        self,
        name: str,
        tool_call: Callable[P, R],
        as_json_tool: Mapping[str, Any] | None = None,
        *,
        description: str | None = None,
        parameters: dict[str, Any] | None = None,
        args_model: type[BaseModel] | None = None,
    ) -> None:
        spec = dict((as_json_tool or {}).get("function") or {})
        self.name = name
        self.func: Callable[P, R] = tool_call
        self.description: str = (
            description if description is not None else spec.get("description", "")
        )
        self.parameters: dict[str, Any] = (
            parameters or spec.get("parameters") or {"type": "object", "properties": {}}
        )
        self._args_model = args_model

    @classmethod
    def from_callable(
        cls, func: Callable[P, R] | Callable[P, Awaitable[R]], name: str | None = None
    ) -> MelleaTool[P, R]:
        """Build the tool from a function's (or bound method's) signature and docstring."""
        if isinstance(func, MelleaTool):
            return func if name in (None, func.name) else func.renamed(name)
        tool_name = name or getattr(func, "__name__", None) or type(func).__name__
        summary, model, schema = tool_spec(func, tool_name)
        call = cast("Callable[P, R]", func)
        return cls(tool_name, call, description=summary, parameters=schema, args_model=model)

    @classmethod
    def from_langchain(cls, tool: Any) -> MelleaTool[..., Any]:
        """Wrap a LangChain tool (`name`, `description`, `args_schema`/`args`, `invoke`)."""
        params: dict[str, Any] = {"type": "object", "properties": {}}
        args_schema = getattr(tool, "args_schema", None)
        if args_schema is not None and hasattr(args_schema, "model_json_schema"):
            params = args_schema.model_json_schema()
            params.pop("title", None)
        elif isinstance(getattr(tool, "args", None), dict):
            params = {"type": "object", "properties": dict(tool.args)}

        def call(**kwargs: Any) -> Any:
            return tool.invoke(kwargs)

        call.__name__ = str(tool.name)
        description = str(getattr(tool, "description", ""))
        return MelleaTool(str(tool.name), call, description=description, parameters=params)

    @classmethod
    def from_smolagents(cls, tool: Any) -> MelleaTool[..., Any]:
        """Wrap a smolagents tool (`name`, `description`, `inputs`, `forward`)."""
        props: dict[str, Any] = {}
        required: list[str] = []
        for pname, spec in dict(getattr(tool, "inputs", {}) or {}).items():
            spec = dict(spec)
            kind = spec.get("type", "string")
            props[pname] = {"type": "number" if kind == "any" else kind}
            if spec.get("description"):
                props[pname]["description"] = spec["description"]
            if not spec.get("nullable"):
                required.append(pname)
        params = {"type": "object", "properties": props, "required": required}
        func = getattr(tool, "forward", tool)
        description = str(getattr(tool, "description", ""))
        return MelleaTool(str(tool.name), func, description=description, parameters=params)

    def renamed(self, name: str) -> MelleaTool[P, R]:
        """The same tool under another name."""
        return MelleaTool(
            name, self.func, description=self.description, parameters=self.parameters,
            args_model=self._args_model,
        )  # fmt: skip

    @property
    def is_async(self) -> bool:
        """True if calling the tool returns an awaitable (an `async def` tool)."""
        return _is_async_callable(self.func)

    @property
    def as_json_tool(self) -> dict[str, Any]:
        """The OpenAI / Ollama `tools` entry: `{"type": "function", "function": {...}}`."""
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
        return check_arguments(self, args)

    def run(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call the tool directly (no validation; an async tool returns its coroutine)."""
        return self.func(*args, **kwargs)

    async def arun(self, **kwargs: Any) -> Any:
        """Call the tool without blocking the event loop: awaited if async, else in a thread."""
        func: Callable[..., Any] = self.func
        if self.is_async:
            return await func(**kwargs)
        result = await asyncio.to_thread(func, **kwargs)
        if inspect.isawaitable(result):  # a sync wrapper around a coroutine function
            return await result
        return result

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"MelleaTool({self.name!r})"


@overload
def tool(func: Callable[P, R], name: str | None = None) -> MelleaTool[P, R]: ...
@overload
def tool(
    func: None = None, name: str | None = None
) -> Callable[[Callable[P, R]], MelleaTool[P, R]]: ...
def tool(
    func: Callable[P, R] | None = None, name: str | None = None
) -> MelleaTool[P, R] | Callable[[Callable[P, R]], MelleaTool[P, R]]:
    """Decorator: `@tool` or `@tool(name="...")` turns a function into a `MelleaTool`.

    `tool(f, name="...")` does the same as a call. The result is a `MelleaTool` (call it
    with `.run(...)`, or directly) usable anywhere tools are accepted.
    """
    if func is None:
        return lambda f: MelleaTool.from_callable(f, name)
    return MelleaTool.from_callable(func, name)


def wrap_tool(item: AbstractMelleaTool[..., Any], name: str | None = None) -> MelleaTool[..., Any]:
    """`item` as a `MelleaTool` named `name` (default: its own name). Another kind of
    `AbstractMelleaTool` (e.g. a user's own class) is wrapped: its `run` is what gets
    called and its `as_json_tool` what the model sees."""
    if isinstance(item, MelleaTool):
        return item if name in (None, item.name) else item.renamed(name)
    return MelleaTool(name or item.name, item.run, item.as_json_tool)


def normalize_tools(
    value: Sequence[Any] | Mapping[str, Any] | None,
) -> dict[str, MelleaTool[..., Any]]:
    """`ModelOption.TOOLS` (list or name->tool dict of tools or plain callables) by name."""
    if not value:
        return {}
    items: list[tuple[str | None, Any]] = (
        list(value.items()) if isinstance(value, Mapping) else [(None, v) for v in value]
    )
    tools: dict[str, MelleaTool[..., Any]] = {}
    for key, item in items:
        if isinstance(item, AbstractMelleaTool):
            t = wrap_tool(item, key)
        elif callable(item):
            t = MelleaTool.from_callable(item, key)
        else:
            raise InvalidOptionError(f"ModelOption.TOOLS entries must be callables, got {item!r}")
        tools[t.name] = t
    return tools


def action_tools(action: Component[Any] | CBlock) -> dict[str, MelleaTool[..., Any]]:
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


def add_tools_from_model_options(
    tools_dict: dict[str, Any], model_options: Mapping[str, Any]
) -> None:
    """Add the tools of `model_options[ModelOption.TOOLS]` to `tools_dict` (in place)."""
    from .model_options import ModelOption

    tools_dict.update(normalize_tools(model_options.get(ModelOption.TOOLS)))


def add_tools_from_context_actions(
    tools_dict: dict[str, Any], ctx_actions: Sequence[Component[Any] | CBlock] | None
) -> None:
    """Add the tools each of `ctx_actions` offers to `tools_dict` (in place; a later
    action's tool replaces an earlier one of the same name)."""
    for action in ctx_actions or ():
        tools_dict.update(action_tools(action))


def convert_tools_to_json(tools: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The `tools` request entries (OpenAI / Ollama JSON) of a name -> tool mapping."""
    return [_json_tool(t) for t in tools.values()]


def _json_tool(item: Any) -> dict[str, Any]:
    entry = getattr(item, "as_json_tool", None)
    if isinstance(entry, Mapping):  # a MelleaTool, or another library's tool object
        return dict(entry)
    return MelleaTool.from_callable(item).as_json_tool


# Loaded on use: tool_json imports this module; _ollama_tool imports pydantic.
__getattr__ = lazy_getattr(
    __name__,
    {
        **{
            name: f"mellea.backends.tool_json:{name}"
            for name in ("ToolReply", "parse_tool_reply", "tool_call_schema", "tools_prompt")
        },
        **{
            name: f"mellea.backends._ollama_tool:{name}"
            for name in ("OllamaTool", "SubscriptableBaseModel", "convert_function_to_ollama_tool")
        },
    },
)

__all__ = [
    "MelleaTool",
    "OllamaTool",
    "P",
    "R",
    "SubscriptableBaseModel",
    "ToolCallName",
    "ToolReply",
    "action_tools",
    "add_tool_call",
    "add_tools_from_context_actions",
    "add_tools_from_model_options",
    "convert_function_to_ollama_tool",
    "convert_tools_to_json",
    "find_func",
    "get_code_field_from_schema",
    "json_extraction",
    "normalize_tools",
    "parse_tool_call",
    "parse_tool_reply",
    "parse_tools",
    "tool",
    "tool_call_schema",
    "tools_prompt",
    "validate_tool_arguments",
    "wrap_tool",
]
