"""`mify`: make an existing class (or one object) queryable and transformable by the model.

```python
@mify(fields_include={"name", "spend_ytd"}, template="{{ name }} spent {{ spend_ytd }}")
class CustomerRecord: ...

mify(third_party_obj, stringify_func=lambda: f"name: {third_party_obj.name}")
```

What the model sees of the object, first match wins:

1. `fields_include` / `fields_exclude` set: those fields, rendered by `template` (Jinja2,
   fields as variables) or as `name: value` lines;
2. `stringify_func`: its text (class-level: called with the instance; instance-level: a
   zero-argument function, or one taking the object — both work);
3. `template`: rendered with every public field (and `content` = `str(obj)`);
4. `str(obj)` if the class defines `__str__`/`__repr__`, else its public fields as
   `name: value` lines (a default object repr tells the model nothing).

Methods offered as tools: `funcs_include` (exactly those, documented or not), else every
public method with a docstring (minus `funcs_exclude`; `[no-index]` in a docstring hides
it). `parsing_func`, if given, turns a transform's text answer (no tool call) into the
result. `template_order` is accepted for compatibility; there is no template library.
Mifying adds methods only where the class does not define them already; a class or
object that is already an MObject is returned unchanged.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, overload, runtime_checkable

from ...core.base import CBlock, Component, TemplateRepresentation
from .mobject import (
    MObject,
    MObjectProtocol,
    Query,
    Transform,
    methods_as_tools,
    public_methods,
    select_methods,
)

if TYPE_CHECKING:
    from ...core.thunk import ModelOutputThunk

T = TypeVar("T")


@dataclass(frozen=True)
class MifyConfig:
    """The options a class or object was mified with."""

    query_type: type[Query] = Query
    transform_type: type[Transform] = Transform
    fields_include: frozenset[str] | None = None
    fields_exclude: frozenset[str] | None = None
    funcs_include: frozenset[str] | None = None
    funcs_exclude: frozenset[str] | None = None
    template: str | None = None
    template_order: str | list[str] | None = None
    parsing_func: Callable[[str], Any] | None = None
    stringify_func: Callable[..., str] | None = None
    on_instance: bool = False


def mify_config(obj: Any) -> MifyConfig:
    """The mify options of `obj` (defaults if it was not mified)."""
    config = getattr(obj, "_mify_config", None)
    return config if isinstance(config, MifyConfig) else MifyConfig()


def _public_fields(obj: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for cls in reversed(type(obj).__mro__[:-1]):  # class-level fields, base classes first
        for name, value in vars(cls).items():
            if (
                not name.startswith("_")
                and not callable(value)
                and not isinstance(value, property | classmethod | staticmethod)
            ):
                fields[name] = value
    fields.update({k: v for k, v in getattr(obj, "__dict__", {}).items() if not k.startswith("_")})
    return {k: v for k, v in fields.items() if not isinstance(v, types.MethodType)}


def _lines(fields: dict[str, Any]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in fields.items())


def _has_own_str(obj: Any) -> bool:
    cls: Any = type(obj)  # Any: mypy cannot compare slot wrappers with functions
    return cls.__str__ is not object.__str__ or cls.__repr__ is not object.__repr__


class _Mified:
    """The methods mify adds (their `self` is the mified object)."""

    def parts(self) -> list[Component[Any] | CBlock]:
        return []

    def parse(self, computed: ModelOutputThunk[Any]) -> str:
        return computed.value or ""

    def get_query_object(self, query: str) -> Query:
        return mify_config(self).query_type(self, query)

    def get_transform_object(self, transformation: str) -> Transform:
        return mify_config(self).transform_type(self, transformation)

    def content_as_string(self) -> str:
        config = mify_config(self)
        fn = config.stringify_func
        if fn is not None:
            if config.on_instance and _takes_no_args(fn):
                return str(fn())
            return str(fn(self))
        return str(self) if _has_own_str(self) else _lines(_public_fields(self))

    def format_for_llm(self) -> TemplateRepresentation | str:
        config = mify_config(self)
        tools = dict(methods_as_tools(_exposed_methods(self, config))) or None
        if config.fields_include is not None or config.fields_exclude is not None:
            args = _selected_fields(self, config)
            if config.template is None:
                return TemplateRepresentation(obj=self, args={"text": _lines(args)}, tools=tools)
        elif config.stringify_func is None and config.template is not None:
            args = {**_public_fields(self), "content": str(self)}
        else:
            args = {"content": self.content_as_string()}
        return TemplateRepresentation(obj=self, args=args, tools=tools, template=config.template)


def _takes_no_args(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    return not any(
        p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        for p in params
    )


_ADDED = {name for name, v in vars(_Mified).items() if callable(v) and not name.startswith("__")}
_SKIP_METHODS = _ADDED | {name for name in dir(MObject) if not name.startswith("_")}


def _exposed_methods(obj: Any, config: MifyConfig) -> dict[str, Callable[..., Any]]:
    include = set(config.funcs_include) if config.funcs_include is not None else None
    exclude = set(config.funcs_exclude or ())
    return select_methods(public_methods(obj, _SKIP_METHODS), include, exclude)


def _selected_fields(obj: Any, config: MifyConfig) -> dict[str, Any]:
    exclude = config.fields_exclude or frozenset()
    if config.fields_include is not None:
        # Named explicitly: read even if it is a property or set later.
        return {
            name: getattr(obj, name)
            for name in sorted(config.fields_include)
            if name not in exclude and hasattr(obj, name)
        }
    return {k: v for k, v in _public_fields(obj).items() if k not in exclude}


@runtime_checkable
class MifiedProtocol(MObjectProtocol, Protocol):
    """A mified class's instances (or a mified object): an `MObjectProtocol` whose model
    output parses to its text."""

    def parse(self, computed: ModelOutputThunk[Any]) -> str: ...


def _frozen(names: set[str] | frozenset[str] | list[str] | None) -> frozenset[str] | None:
    return None if names is None else frozenset(names)


def _apply(target: Any, config: MifyConfig) -> Any:
    is_class = inspect.isclass(target)
    if is_class and issubclass(target, MObject):
        return target
    if not is_class and (
        isinstance(target, MObject) or isinstance(getattr(target, "_mify_config", None), MifyConfig)
    ):
        return target
    if (
        not is_class
        and getattr(type(target), "__slots__", None) is not None
        and not hasattr(target, "__dict__")
    ):
        raise TypeError(f"cannot mify a {type(target).__name__} object: its class uses __slots__")
    try:
        target._mify_config = config
        for name in _ADDED:
            if is_class:
                if not hasattr(target, name):
                    setattr(target, name, vars(_Mified)[name])
            elif name not in dir(type(target)):
                setattr(target, name, types.MethodType(vars(_Mified)[name], target))
    except (AttributeError, TypeError) as exc:  # builtins, frozen objects
        raise TypeError(f"cannot mify {target!r:.100}: {exc}") from exc
    return target


@overload
def mify(
    obj: T,
    *,
    query_type: type[Query] = ...,
    transform_type: type[Transform] = ...,
    fields_include: set[str] | None = ...,
    fields_exclude: set[str] | None = ...,
    funcs_include: set[str] | None = ...,
    funcs_exclude: set[str] | None = ...,
    template: str | None = ...,
    template_order: str | list[str] | None = ...,
    parsing_func: Callable[[str], Any] | None = ...,
    stringify_func: Callable[..., str] | None = ...,
) -> T: ...
@overload
def mify(
    obj: None = None,
    *,
    query_type: type[Query] = ...,
    transform_type: type[Transform] = ...,
    fields_include: set[str] | None = ...,
    fields_exclude: set[str] | None = ...,
    funcs_include: set[str] | None = ...,
    funcs_exclude: set[str] | None = ...,
    template: str | None = ...,
    template_order: str | list[str] | None = ...,
    parsing_func: Callable[[str], Any] | None = ...,
    stringify_func: Callable[..., str] | None = ...,
) -> Callable[[T], T]: ...
def mify(
    obj: Any = None,
    *,
    query_type: type[Query] = Query,
    transform_type: type[Transform] = Transform,
    fields_include: set[str] | None = None,
    fields_exclude: set[str] | None = None,
    funcs_include: set[str] | None = None,
    funcs_exclude: set[str] | None = None,
    template: str | None = None,
    template_order: str | list[str] | None = None,
    parsing_func: Callable[[str], Any] | None = None,
    stringify_func: Callable[..., str] | None = None,
) -> Any:
    """Make a class's instances (decorator: `@mify` / `@mify(...)`) or one object
    (`mify(obj, ...)`, returns `obj`) usable with `m.query` / `m.transform`.

    See the module docstring for how the options decide what the model sees and may call.
    """

    def apply(target: Any) -> Any:
        config = MifyConfig(
            query_type=query_type,
            transform_type=transform_type,
            fields_include=_frozen(fields_include),
            fields_exclude=_frozen(fields_exclude),
            funcs_include=_frozen(funcs_include),
            funcs_exclude=_frozen(funcs_exclude),
            template=template,
            template_order=template_order,
            parsing_func=parsing_func,
            stringify_func=stringify_func,
            on_instance=not inspect.isclass(target),
        )
        return _apply(target, config)

    return apply if obj is None else apply(obj)


__all__ = ["MObject", "MObjectProtocol", "MifiedProtocol", "MifyConfig", "mify", "mify_config"]
