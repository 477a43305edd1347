"""Checking a model's tool-call arguments against the tool's parameters.

Tools built from a Python callable carry a pydantic model of their parameters (exact
types, nested models, coercion of "3" to 3); tools known only by a JSON schema (LangChain,
smolagents, a hand-written `as_json_tool`) are checked against the schema's required and
declared properties and their simple JSON types.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..core.errors import ToolArgumentsError

logger = logging.getLogger("mellea")

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list, tuple),
    "object": (dict,),
    "null": (type(None),),
}


def _tool_name(tool: Any) -> str:
    return str(getattr(tool, "name", None) or type(tool).__name__)


def _fail(name: str, errors: list[str]) -> ToolArgumentsError:
    return ToolArgumentsError(
        f"invalid arguments for tool {name!r}: " + "; ".join(errors),
        tool_name=name,
        errors=errors,
    )


def check_arguments(tool: Any, args: Mapping[str, Any], *, coerce: bool = True) -> dict[str, Any]:
    """`args` checked against `tool`'s parameters (coerced to their types if `coerce`).

    Raises `ToolArgumentsError` listing every problem (missing, unknown, wrong type).
    """
    name = _tool_name(tool)
    if not isinstance(args, Mapping):
        raise ToolArgumentsError(
            f"tool {name!r} takes a JSON object of arguments, got {args!r:.200}",
            tool_name=name,
            errors=["arguments are not a JSON object"],
        )
    model = getattr(tool, "_args_model", None)
    if model is not None:
        return _check_with_model(name, model, args, coerce)
    json_tool = tool.as_json_tool
    if callable(json_tool):  # a tool object of another library, with a method
        json_tool = json_tool()
    schema = (json_tool.get("function") or {}).get("parameters") or {}
    return _check_with_schema(name, schema, args, coerce)


def _check_with_model(
    name: str, model: Any, args: Mapping[str, Any], coerce: bool
) -> dict[str, Any]:
    from pydantic import ValidationError

    try:
        validated = model.model_validate(dict(args), strict=not coerce)
    except ValidationError as exc:
        errors = [
            f"{'.'.join(str(p) for p in e['loc']) or '(arguments)'}: {e['msg']}"
            for e in exc.errors()
        ]
        raise _fail(name, errors) from None
    # Only what the model passed (the function's own defaults apply to the rest);
    # attribute access keeps nested pydantic values as model instances.
    out = {k: getattr(validated, k) for k in validated.model_fields_set}
    out.update(validated.model_extra or {})
    return out


def _check_with_schema(
    name: str, schema: Mapping[str, Any], args: Mapping[str, Any], coerce: bool
) -> dict[str, Any]:
    props = schema.get("properties") or {}
    errors = [f"{r}: missing" for r in schema.get("required", ()) if r not in args]
    if schema.get("additionalProperties") is False:
        errors += [f"{k}: unexpected argument" for k in args if k not in props]
    out = dict(args)
    for key, value in args.items():
        spec = props.get(key)
        kinds = spec.get("type") if isinstance(spec, Mapping) else None
        if kinds is None:
            continue  # no simple type declared (anyOf, $ref, ...): accept as given
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        if any(_is_a(value, k) for k in kinds):
            continue
        converted = _coerced(value, kinds) if coerce else None
        if converted is None:
            errors.append(f"{key}: expected {' or '.join(kinds)}, got {value!r:.80}")
        else:
            out[key] = converted[0]
    if errors:
        raise _fail(name, errors)
    return out


def _is_a(value: Any, kind: str) -> bool:
    types = _PY_TYPES.get(kind)
    if types is None:
        return True  # a type this check does not know: accept
    if isinstance(value, bool) and kind in ("integer", "number"):
        return False
    return isinstance(value, types)


def _coerced(value: Any, kinds: list[str]) -> tuple[Any] | None:
    """`(value converted to one of kinds,)`, or None when no lossless conversion exists."""
    for kind in kinds:
        if isinstance(value, str):
            text = value.strip()
            try:
                if kind == "integer":
                    return (int(text),)
                if kind == "number":
                    return (float(text),)
            except ValueError:
                continue
            if kind == "boolean" and text.lower() in ("true", "false"):
                return (text.lower() == "true",)
        elif kind == "string" and isinstance(value, int | float) and not isinstance(value, bool):
            return (str(value),)
        elif kind == "number" and isinstance(value, int) and not isinstance(value, bool):
            return (float(value),)
    return None


def validate_tool_arguments(
    tool: Any, args: Mapping[str, Any], *, coerce_types: bool = True, strict: bool = False
) -> dict[str, Any]:
    """A model's `args` for `tool`, checked (and coerced, e.g. "30" -> 30) against its schema.

    With `strict=True` a mismatch raises `ToolArgumentsError` (a `ValueError`) naming every
    problem; otherwise it is logged as a warning and `args` come back unchanged, so the
    tool itself decides. `coerce_types=False` accepts only values of the exact types.
    """
    try:
        return check_arguments(tool, args, coerce=coerce_types)
    except ToolArgumentsError as exc:
        if strict:
            raise
        logger.warning("%s; passing the arguments unchanged", exc)
        return dict(args) if isinstance(args, Mapping) else args


__all__ = ["check_arguments", "validate_tool_arguments"]
