"""Typed partial objects: a pydantic model instance filled as its JSON streams in.

`PartialModelParser(Model).feed(delta)` runs the incremental JSON parser with builders
that make the model's own types: the top-level object is an instance of `Model`
(built without validation), nested models are instances of theirs, lists are lists of
them. While the stream runs:

- a field not received yet is None, a field received is in `model_fields_set`;
- a `str` field holds the text so far, a list the items so far (the last one may
  itself be partial), a nested model its fields so far;
- a number, bool or null field appears once complete, converted to the field's type;
  so does a string for a field of another type (a `date`, an `Enum`, ...). A value
  the field's type rejects stays as parsed — the final validation rejects the object.

The instance is updated in place (the same object every time); `model_copy(deep=True)`
keeps a snapshot. The final object is always validated in full
(`Model.model_validate_json`), never taken from here.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar, Union

from pydantic import BaseModel, TypeAdapter, ValidationError

from ._partial_json import PLAIN, Builder, IncrementalJSONParser, PlainBuilder

if TYPE_CHECKING:
    from ...core.thunk import ModelOutputThunk

__all__ = ["PartialModelParser", "builder_for", "partial_objects"]

M = TypeVar("M", bound=BaseModel)

_PLAIN_SCALARS = (str, int, bool, type(None), Any, object)


class _ScalarBuilder:
    """A value of a non-container type: plain JSON, converted once it is complete."""

    def __init__(self, annotation: Any) -> None:
        self._annotation = annotation
        self._plain = annotation in _PLAIN_SCALARS
        self.partial_strings = self._plain  # a date or an enum shows once complete
        self._float = annotation is float

    @functools.cached_property
    def _adapter(self) -> TypeAdapter[Any]:
        return TypeAdapter(self._annotation)

    def new_object(self) -> Any:
        return {}

    def new_array(self) -> Any:
        return []

    def child(self, key: str | None) -> Builder:
        return PLAIN

    def set_member(self, container: Any, key: str, value: Any) -> None:
        container[key] = value

    def set_item(self, container: Any, index: int, value: Any) -> None:
        PLAIN.set_item(container, index, value)

    def finish_scalar(self, value: Any) -> Any:
        if self._plain or value is None:
            return value
        if self._float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return self._convert(value)

    def finish_container(self, container: Any) -> Any:
        return container if self._plain else self._convert(container)

    def _convert(self, value: Any) -> Any:
        try:
            return self._adapter.validate_python(value)
        except ValidationError:
            return value


class _ListBuilder(PlainBuilder):
    """A list whose items are built by `item`; tuples and sets convert when it closes."""

    def __init__(self, item: Builder, final: type | None) -> None:
        self._item = item
        self._final = final

    def child(self, key: str | None) -> Builder:
        return self._item

    def finish_container(self, container: Any) -> Any:
        return self._final(container) if self._final is not None else container


class _DictBuilder(PlainBuilder):
    """A `dict[str, V]` whose values are built by `value`."""

    def __init__(self, value: Builder) -> None:
        self._value = value

    def child(self, key: str | None) -> Builder:
        return self._value


class _ModelBuilder(PlainBuilder):
    """An instance of a pydantic model, filled field by field without validation."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.model = model
        self._names: dict[str, str] = {}  # JSON key -> field name
        self._children: dict[str, Builder] = {}
        for name, info in model.model_fields.items():
            key = info.validation_alias if isinstance(info.validation_alias, str) else None
            self._names[key or info.alias or name] = name
            self._names.setdefault(name, name)
        self._blank = dict.fromkeys(model.model_fields)

    def new_object(self) -> Any:
        return self.model.model_construct(_fields_set=set(), **self._blank)

    def child(self, key: str | None) -> Builder:
        name = self._names.get(key or "")
        if name is None:
            return PLAIN
        builder = self._children.get(name)
        if builder is None:
            annotation: Any = self.model.model_fields[name].annotation
            builder = builder_for(annotation)
            self._children[name] = builder
        return builder

    def set_member(self, container: Any, key: str, value: Any) -> None:
        name = self._names.get(key)
        if name is not None:
            container.__dict__[name] = value
            container.__pydantic_fields_set__.add(name)
        elif container.__pydantic_extra__ is not None:  # extra="allow"
            container.__pydantic_extra__[key] = value


def _strip_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    if origin is typing.Annotated:
        return _strip_optional(typing.get_args(annotation)[0])
    return annotation


@functools.lru_cache(maxsize=512)
def builder_for(annotation: Any) -> Builder:
    """The builder for a value of type `annotation` (cached: models are built once)."""
    annotation = _strip_optional(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _ModelBuilder(annotation)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (list, set, frozenset, tuple) or (
        origin is not None and getattr(origin, "__name__", "") in ("Sequence", "MutableSequence")
    ):
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return _ScalarBuilder(annotation)  # fixed-length tuples: converted when closed
        item = builder_for(args[0]) if args else PLAIN
        final = origin if origin in (set, frozenset, tuple) else None
        return _ListBuilder(item, final)
    if origin is dict and len(args) == 2 and args[0] is str:
        return _DictBuilder(builder_for(args[1]))
    return _ScalarBuilder(annotation)


class PartialModelParser(Generic[M]):
    """Feed a model's JSON as it streams; `value` is the partial instance so far."""

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self._parser = IncrementalJSONParser(builder_for(model))

    @property
    def value(self) -> M | None:
        """The partial instance (None until the top-level object began)."""
        value = self._parser.value
        return value if isinstance(value, self.model) else None

    @property
    def complete(self) -> bool:
        return self._parser.complete

    def feed(self, delta: str) -> bool:
        """Parse `delta`; True if the partial object changed. Raises `PartialJSONError`."""
        return self._parser.feed(delta)


async def partial_objects(mot: ModelOutputThunk[Any], model: type[M]) -> AsyncIterator[M]:
    """The partial instance of `model` each time `mot`'s streaming JSON changed it.

    Works on any thunk generating `model`'s JSON (e.g. an attempt of
    `ainstruct(format=model)`: `mot.attempts[-1]`), alongside its reader (`mot.watch()`).
    Raises `PartialJSONError` when the text cannot be `model`'s JSON.
    """
    parser = PartialModelParser(model)
    async for delta in mot.watch():
        if parser.feed(delta) and parser.value is not None:
            yield parser.value
