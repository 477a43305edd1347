"""`MObject`, `Query`, `Transform`: objects the model can be asked about or asked to change.

An MObject shows the model some content (`content_as_string()` / `format_for_llm()`) and
offers some of its methods as tools. `m.query(obj, "...")` asks a question about it;
`m.transform(obj, "...")` asks for a changed version, and when the model answers by
calling one of the object's methods, the method's return value is the result.
Classes you cannot change become MObjects with `mify` (see `mellea.stdlib.components.mify`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from ...backends.formatter import render_template
from ...backends.tools import MelleaTool
from ...core.base import CBlock, Component, TemplateRepresentation
from ...core.thunk import ModelOutputThunk

_NO_INDEX = "[no-index]"


def object_text(obj: Any) -> str:
    """The text an object shows the model (its `format_for_llm`, else `str`)."""
    if isinstance(obj, CBlock):
        return obj.value or ""
    format_for_llm = getattr(obj, "format_for_llm", None)
    if callable(format_for_llm):
        rep = format_for_llm()
        return rep if isinstance(rep, str) else render_template(rep)
    return str(obj)


def object_tools(obj: Any) -> dict[str, Any]:
    """The tools an object offers (its `TemplateRepresentation.tools`)."""
    format_for_llm = getattr(obj, "format_for_llm", None)
    if not callable(format_for_llm):
        return {}
    rep = format_for_llm()
    return dict(rep.tools or {}) if isinstance(rep, TemplateRepresentation) else {}


def public_methods(obj: Any, skip: set[str]) -> dict[str, Callable[..., Any]]:
    """Public methods of `obj` (bound), except those named in `skip` or defined by `object`.

    Properties are not evaluated (they may have side effects), nor offered.
    """
    found: dict[str, Callable[..., Any]] = {}
    for name in dir(obj):
        if name.startswith("_") or name in skip or hasattr(object, name):
            continue
        try:
            static = inspect.getattr_static(obj, name)
        except AttributeError:
            continue
        if isinstance(static, property):
            continue
        member = getattr(obj, name, None)
        if callable(member) and not inspect.isclass(member):
            found[name] = member
    return found


def select_methods(
    methods: dict[str, Callable[..., Any]],
    include: set[str] | None,
    exclude: set[str] | None,
) -> dict[str, Callable[..., Any]]:
    """`include` (exactly those, documented or not) else the documented methods minus
    `exclude`; a docstring containing `[no-index]` hides a method unless included."""
    if include is not None:
        return {n: f for n, f in methods.items() if n in include and n not in (exclude or ())}
    out = {}
    for name, func in methods.items():
        doc = inspect.getdoc(func)
        if doc and _NO_INDEX not in doc and name not in (exclude or ()):
            out[name] = func
    return out


def methods_as_tools(
    methods: dict[str, Callable[..., Any]],
) -> dict[str, MelleaTool[..., Any]]:
    return {name: MelleaTool.from_callable(func, name) for name, func in methods.items()}


_OBJECT_BLOCK = "<object>\n{content}\n</object>"


class Query(Component[str]):
    """A question about an object: `Query(obj, "What is ...?")`."""

    def __init__(self, obj: Any, query: str) -> None:
        self._obj = obj
        self._query = query

    def parts(self) -> list[Component[Any] | CBlock]:
        return [self._obj] if isinstance(self._obj, Component | CBlock) else []

    def format_for_llm(self) -> TemplateRepresentation:
        text = (
            _OBJECT_BLOCK.format(content=object_text(self._obj))
            + f"\n\nAnswer this question about the object above: {self._query}"
        )
        return TemplateRepresentation(
            obj=self, args={"text": text}, tools=object_tools(self._obj) or None
        )

    def _parse(self, computed: ModelOutputThunk[Any]) -> str:
        return computed.value or ""

    def __repr__(self) -> str:
        return f"Query({type(self._obj).__name__}, {self._query!r})"


class Transform(Component[str]):
    """A change to make to an object: `Transform(obj, "Transpose the table.")`."""

    def __init__(self, obj: Any, transformation: str) -> None:
        self._obj = obj
        self._transformation = transformation

    def parts(self) -> list[Component[Any] | CBlock]:
        return [self._obj] if isinstance(self._obj, Component | CBlock) else []

    def format_for_llm(self) -> TemplateRepresentation:
        tools = object_tools(self._obj)
        text = _OBJECT_BLOCK.format(content=object_text(self._obj))
        text += f"\n\nTransform the object above: {self._transformation}"
        if tools:
            text += (
                "\nIf one of the available tools performs this transformation, call it "
                "with the arguments that produce the result; otherwise write the "
                "transformed object."
            )
        else:
            text += "\nWrite the transformed object."
        return TemplateRepresentation(obj=self, args={"text": text}, tools=tools or None)

    def _parse(self, computed: ModelOutputThunk[Any]) -> str:
        return computed.value or ""

    def __repr__(self) -> str:
        return f"Transform({type(self._obj).__name__}, {self._transformation!r})"


@runtime_checkable
class MObjectProtocol(Protocol):
    """What `query`/`transform` need of an object (MObject subclasses and mified objects)."""

    def parts(self) -> list[Component[Any] | CBlock]: ...

    def get_query_object(self, query: str) -> Query: ...

    def get_transform_object(self, transformation: str) -> Transform: ...

    def content_as_string(self) -> str: ...

    def format_for_llm(self) -> TemplateRepresentation | str: ...


class MObject(Component[str]):
    """Base class for objects the model can query and transform.

    Override `content_as_string()` (default `str(self)`) to control what the model sees.
    Public methods with a docstring (not containing `[no-index]`) are offered as tools.
    """

    _query_type: type[Query] = Query
    _transform_type: type[Transform] = Transform

    def __init__(
        self, *, query_type: type[Query] = Query, transform_type: type[Transform] = Transform
    ) -> None:
        self._query_type = query_type
        self._transform_type = transform_type

    def parts(self) -> list[Component[Any] | CBlock]:
        return []

    def get_query_object(self, query: str) -> Query:
        """The `Query` component asking `query` about this object."""
        return self._query_type(self, query)

    def get_transform_object(self, transformation: str) -> Transform:
        """The `Transform` component asking for `transformation` of this object."""
        return self._transform_type(self, transformation)

    def content_as_string(self) -> str:
        """What the model sees of this object (override it; default `str(self)`)."""
        return str(self)

    def _get_all_members(self) -> dict[str, Callable[..., Any]]:
        base = {name for name in dir(MObject) if not name.startswith("_")}
        return select_methods(public_methods(self, base), None, None)

    def format_for_llm(self) -> TemplateRepresentation | str:
        return TemplateRepresentation(
            obj=self,
            args={"content": self.content_as_string()},
            tools=dict(methods_as_tools(self._get_all_members())) or None,
        )

    def _parse(self, computed: ModelOutputThunk[Any]) -> str:
        return computed.value or ""


__all__ = [
    "MObject",
    "MObjectProtocol",
    "Query",
    "Transform",
    "object_text",
    "object_tools",
]
