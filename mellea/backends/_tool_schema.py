"""How a Python callable becomes a tool schema: its signature (types via pydantic) and its
docstring (the first paragraph describes the tool; a Google-style `Args:` section, or a
one-line `Args: x: ...`, describes the parameters)."""

from __future__ import annotations

import copy
import functools
import inspect
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

_ARG_LINE = re.compile(r"^\s{2,}(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_INLINE_ARGS = re.compile(r"\bArgs:\s*(\w+)\s*:\s*(.+)$", re.S)


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
    inline = _INLINE_ARGS.search(summary)
    if inline and not params:  # one-line docstrings: "Double the input. Args: x: Input value."
        params[inline.group(1)] = inline.group(2).strip()
        summary = summary[: inline.start()].strip()
    return summary, params


def _param_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    """Resolved parameter annotations; an unresolvable one (a local class named in a string
    annotation) becomes `Any` rather than failing the whole tool."""
    try:
        return typing.get_type_hints(fn)
    except Exception:
        pass
    raw = dict(getattr(fn, "__annotations__", None) or {})
    namespace = getattr(inspect.unwrap(fn), "__globals__", {})
    hints: dict[str, Any] = {}
    for name, annotation in raw.items():
        # A quoted annotation under `from __future__ import annotations` is a string twice.
        for _ in range(3):
            if not isinstance(annotation, str):
                break
            try:
                annotation = eval(annotation, namespace)  # what get_type_hints does, per name
            except Exception:
                annotation = Any
        hints[name] = Any if isinstance(annotation, str) else annotation
    return hints


def _args_model(
    fn: Callable[..., Any], params: Sequence[inspect.Parameter], name: str
) -> type[BaseModel]:
    """A pydantic model of the keyword-callable `params` of `fn` (for schema + checks)."""
    from pydantic import ConfigDict, create_model

    hints = _param_hints(fn)
    fields: dict[str, Any] = {}
    takes_kwargs = False
    for param in params:
        if param.kind is param.VAR_KEYWORD:
            takes_kwargs = True
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            continue
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (hints.get(param.name, Any), default)
    # Unknown arguments are a model mistake worth reporting, unless the tool takes **kwargs.
    config = ConfigDict(
        extra="allow" if takes_kwargs else "forbid",
        coerce_numbers_to_str=True,
        arbitrary_types_allowed=True,
    )
    safe_name = re.sub(r"\W", "_", name) or "tool"
    return create_model(f"{safe_name}_args", __config__=config, **fields)


_Spec = tuple[str, "type[BaseModel]", dict[str, Any]]
"""(description, pydantic model of the arguments, JSON schema of the parameters)"""


def _build_spec(fn: Callable[..., Any], name: str, drop_first: bool) -> _Spec:
    summary, arg_docs = _docstring_parts(fn)
    params = list(inspect.signature(fn).parameters.values())[1 if drop_first else 0 :]
    model = _args_model(fn, params, name)
    return summary, model, _schema_of(model, arg_docs)


# An MObject's methods become tools on every render: cache per underlying function
# (bound methods of every instance share it), since building a schema costs ~1 ms.
_cached_spec = functools.lru_cache(maxsize=512)(_build_spec)


def tool_spec(func: Callable[..., Any], name: str) -> _Spec:
    """Description, arguments model and parameters schema of `func` as the tool `name`."""
    underlying = getattr(func, "__func__", None) if inspect.ismethod(func) else func
    if underlying is not None and inspect.isfunction(underlying):
        summary, model, schema = _cached_spec(underlying, name, inspect.ismethod(func))
        return summary, model, copy.deepcopy(schema)
    return _build_spec(func, name, False)


def _schema_of(model: type[BaseModel], arg_docs: Mapping[str, str]) -> dict[str, Any]:
    schema = model.model_json_schema()
    schema.pop("title", None)
    for pname, prop in schema.get("properties", {}).items():
        prop.pop("title", None)
        if pname in arg_docs:
            prop["description"] = arg_docs[pname]
    schema.setdefault("properties", {})
    return schema


__all__ = ["tool_spec"]
