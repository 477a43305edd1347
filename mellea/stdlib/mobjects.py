"""`query` / `transform` of objects, functional style (the session methods wrap these).

- `aquery(obj, "question", ctx, backend)` -> `(thunk, ctx)`: returns at once, like
  `aact` (computed with `await_result=True`).
- `atransform(obj, "instruction", ctx, backend)` -> `(result, ctx)`: the model is offered
  the object's methods as tools. If it calls one, that method runs (sync methods in a
  worker thread) and its return value is the result; the call's `ToolMessage` is added to
  the returned context. If it answers in text, the result is the thunk (or
  `parsing_func(text)` for a mified object that has one). A failing method call raises
  its error (`ToolArgumentsError` for arguments that do not fit the method).

Objects that are not MObjects are wrapped for the call (they are not modified): the
model sees `str(obj)` and the object's documented public methods.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..core.base import CBlock, Component, TemplateRepresentation
from ..core.thunk import ModelOutputThunk
from ..helpers.portal import run_sync
from .components.mify import mify_config
from .components.mobject import (
    MObjectProtocol,
    Query,
    Transform,
    methods_as_tools,
    public_methods,
    select_methods,
)

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ..core.backend import Backend
    from ..core.context import ContextT

logger = logging.getLogger("mellea")


class _Wrapped(Component[str]):
    """A plain object seen as an MObject for one call (the object itself is untouched)."""

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def get_query_object(self, query: str) -> Query:
        return Query(self, query)

    def get_transform_object(self, transformation: str) -> Transform:
        return Transform(self, transformation)

    def content_as_string(self) -> str:
        return str(self.obj)

    def format_for_llm(self) -> TemplateRepresentation:
        methods: dict[str, Callable[..., Any]] = {}
        if type(self.obj).__module__ != "builtins":  # str.upper & co. are not tools
            methods = select_methods(public_methods(self.obj, set()), None, None)
        tools = dict(methods_as_tools(methods)) or None
        return TemplateRepresentation(obj=self, args={"content": str(self.obj)}, tools=tools)


def _as_mobject(obj: Any) -> Any:
    if isinstance(obj, MObjectProtocol):
        return obj
    if isinstance(obj, CBlock | Component):
        raise TypeError(
            f"query/transform take an MObject, a mified object, or a plain object; "
            f"got a {type(obj).__name__} (use act() for components)"
        )
    return _Wrapped(obj)


async def aquery(
    obj: Any,
    query: str,
    context: ContextT,
    backend: Backend,
    *,
    format: type[BaseModel] | None = None,
    model_options: Mapping[str, Any] | None = None,
    tool_calls: bool = False,
    allow_context_type_change: bool = False,
    await_result: bool = False,
) -> tuple[ModelOutputThunk[Any], ContextT]:
    """Ask a question about `obj`; returns `(thunk, new context)` at once."""
    from .functional import aact

    q = _as_mobject(obj).get_query_object(query)
    return await aact(
        q, context, backend, strategy=None, format=format, model_options=model_options,
        tool_calls=tool_calls, allow_context_type_change=allow_context_type_change,
        await_result=await_result,
    )  # fmt: skip


async def atransform(
    obj: Any,
    transformation: str,
    context: ContextT,
    backend: Backend,
    *,
    format: type[BaseModel] | None = None,
    model_options: Mapping[str, Any] | None = None,
    allow_context_type_change: bool = False,
) -> tuple[Any, ContextT]:
    """Ask for a transformed `obj`: a called method's return value, else the thunk."""
    from .functional import aact
    from .tool_calling import ToolErrorMessage, acall_tools

    t = _as_mobject(obj).get_transform_object(transformation)
    mot, new_ctx = await aact(
        t, context, backend, strategy=None, format=format, model_options=model_options,
        tool_calls=True, allow_context_type_change=allow_context_type_change,
        await_result=True,
    )  # fmt: skip
    messages = await acall_tools(mot, backend)
    if not messages:
        parse: Callable[[str], Any] | None = mify_config(obj).parsing_func
        return (parse(mot.value or "") if parse is not None else mot), new_ctx
    chosen = messages[0]
    if len(messages) > 1:
        # A transform has one result: prefer a call that returned the object's own type.
        same_type = [m for m in messages if type(m._tool_output) is type(obj)]
        chosen = same_type[0] if same_type else chosen
        logger.info(
            "mellea: the transform %r produced %d tool calls; using %s",
            transformation, len(messages), chosen.name,
        )  # fmt: skip
    new_ctx = new_ctx.add(chosen)
    if isinstance(chosen, ToolErrorMessage):
        raise chosen.error
    if chosen._tool is not None and not chosen.arguments:
        logger.info(
            "mellea: the transform %r called %s() without arguments; calling it directly "
            "gives the same result without a model call",
            transformation, chosen.name,
        )  # fmt: skip
    return chosen._tool_output, new_ctx


def query(
    obj: Any,
    query: str,
    context: ContextT,
    backend: Backend,
    *,
    format: type[BaseModel] | None = None,
    model_options: Mapping[str, Any] | None = None,
    tool_calls: bool = False,
    allow_context_type_change: bool = False,
) -> tuple[ModelOutputThunk[Any], ContextT]:
    """Blocking `aquery` (the thunk is computed)."""
    return run_sync(
        aquery(
            obj, query, context, backend, format=format, model_options=model_options,
            tool_calls=tool_calls, allow_context_type_change=allow_context_type_change,
            await_result=True,
        )
    )  # fmt: skip


def transform(
    obj: Any,
    transformation: str,
    context: ContextT,
    backend: Backend,
    *,
    format: type[BaseModel] | None = None,
    model_options: Mapping[str, Any] | None = None,
    allow_context_type_change: bool = False,
) -> tuple[Any, ContextT]:
    """Blocking `atransform`."""
    return run_sync(
        atransform(
            obj, transformation, context, backend, format=format, model_options=model_options,
            allow_context_type_change=allow_context_type_change,
        )
    )  # fmt: skip


__all__ = ["aquery", "atransform", "query", "transform"]
