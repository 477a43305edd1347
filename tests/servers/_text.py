"""Deterministic reply text: tokenisers and the minimal JSON-schema instance."""

from __future__ import annotations

import json
import re
from typing import Any

_WORDS = re.compile(r"\S+\s*|\s+")
# A JSON string literal, or a run of anything else up to the next quote/space.
_JSON_PIECES = re.compile(r'\s*(?:"(?:[^"\\]|\\.)*"|[^\s"]+)|\s+')

_MAX_DEPTH = 12
_STRING_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00Z",
    "email": "x@example.com",
    "uri": "http://x.example",
    "url": "http://x.example",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "ipv4": "127.0.0.1",
}


def tokenize_words(text: str) -> list[str]:
    """Each token is a word plus its following whitespace; ``"".join`` restores text."""
    return _WORDS.findall(text)


def tokenize_json(text: str) -> list[str]:
    """Split serialised JSON into a few pieces (string literals kept whole)."""
    pieces = _JSON_PIECES.findall(text)
    assert "".join(pieces) == text
    return pieces


def numbered_tokens(n: int) -> list[str]:
    """``tokens=N`` default: ``"tok0 ", "tok1 ", ..., "tok{N-1}"`` (last without space)."""
    toks = [f"tok{i} " for i in range(n)]
    if toks:
        toks[-1] = toks[-1][:-1]
    return toks


def dump_json(value: Any) -> str:
    """Compact-but-readable JSON as the default structured reply text."""
    return json.dumps(value, separators=(", ", ": "))


def _resolve_ref(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    if not ref.startswith("#"):
        raise ValueError(f"only local $ref supported, got {ref!r}")
    node: Any = root
    for part in ref[1:].split("/"):
        if not part:
            continue
        node = node[part.replace("~1", "/").replace("~0", "~")]
    if not isinstance(node, dict):
        raise ValueError(f"$ref {ref!r} does not point at a schema object")
    return node


def _merge_all_of(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    props: dict[str, Any] = dict(merged.get("properties", {}))
    required: list[str] = list(merged.get("required", []))
    for sub in schema["allOf"]:
        if isinstance(sub, dict) and "$ref" in sub:
            sub = _resolve_ref(sub["$ref"], root)
        if not isinstance(sub, dict):
            continue
        if "allOf" in sub:
            sub = _merge_all_of(sub, root)
        for key, value in sub.items():
            if key == "properties":
                props.update(value)
            elif key == "required":
                required.extend(r for r in value if r not in required)
            else:
                merged.setdefault(key, value)
    if props:
        merged["properties"] = props
    if required:
        merged["required"] = required
    return merged


def _number(schema: dict[str, Any], base: float) -> float:
    value = base
    lo = schema.get("minimum")
    xlo = schema.get("exclusiveMinimum")
    hi = schema.get("maximum")
    xhi = schema.get("exclusiveMaximum")
    if isinstance(lo, int | float) and value < lo:
        value = lo
    if isinstance(xlo, int | float) and value <= xlo:
        value = xlo + 1
    if isinstance(hi, int | float) and value > hi:
        value = hi
    if isinstance(xhi, int | float) and value >= xhi:
        value = xhi - 1
    return value


def json_instance(schema: Any, root: Any = None, depth: int = 0) -> Any:
    """A minimal valid instance of a JSON schema (as pydantic emits them).

    strings "x" (respecting minLength/maxLength and common formats), integers 1,
    numbers 1.0 (moved into minimum/maximum), booleans true, arrays with one item
    (or minItems), objects with every listed property, enum -> first value,
    const -> the constant, $ref/$defs resolved, anyOf/oneOf -> first option,
    allOf merged. Past a nesting depth of 12 (recursive models) only required
    properties are filled and arrays are left empty.
    """
    if root is None:
        root = schema if isinstance(schema, dict) else {}
    if schema is True or not isinstance(schema, dict) or not schema:
        return "x"
    if "$ref" in schema:
        return json_instance(_resolve_ref(schema["$ref"], root), root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if options:
            return json_instance(options[0], root, depth + 1)
    if schema.get("allOf"):
        return json_instance(_merge_all_of(schema, root), root, depth + 1)

    kind = schema.get("type")
    if isinstance(kind, list):
        non_null = [k for k in kind if k != "null"]
        kind = non_null[0] if non_null else "null"
    if kind is None:
        if "properties" in schema or "additionalProperties" in schema:
            kind = "object"
        elif "items" in schema or "prefixItems" in schema:
            kind = "array"
        else:
            kind = "string"

    if kind == "string":
        fmt = schema.get("format")
        if isinstance(fmt, str) and fmt in _STRING_FORMATS:
            return _STRING_FORMATS[fmt]
        length = max(1, int(schema.get("minLength", 1)))
        if "maxLength" in schema:
            length = min(length, int(schema["maxLength"]))
        return "x" * length
    if kind == "integer":
        return int(_number(schema, 1))
    if kind == "number":
        return float(_number(schema, 1.0))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if kind == "array":
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list) and prefix:
            return [json_instance(s, root, depth + 1) for s in prefix]
        count = int(schema.get("minItems", 0 if depth >= _MAX_DEPTH else 1))
        if "maxItems" in schema:
            count = min(count, int(schema["maxItems"]))
        items = schema.get("items", {})
        return [json_instance(items, root, depth + 1) for _ in range(count)]
    if kind == "object":
        props: dict[str, Any] = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        deep = depth >= _MAX_DEPTH
        return {
            name: json_instance(sub, root, depth + 1)
            for name, sub in props.items()
            if not deep or name in required
        }
    raise ValueError(f"unsupported schema type {kind!r}")
