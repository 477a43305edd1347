"""JSON schema -> GBNF grammar for grammar-constrained JSON output.

Uses llama-cpp-python's port of llama.cpp's ``json_schema_to_grammar`` (imported lazily).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from .api import GenerationParams

GRAMMAR_ROOT = "root"


@functools.lru_cache(maxsize=64)
def _schema_to_gbnf(schema_json: str) -> str:
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    return str(json_schema_to_gbnf(schema_json))


def json_schema_to_gbnf(schema: dict[str, Any]) -> str:
    """GBNF grammar (root rule ``root``) accepting exactly the JSON documents of ``schema``.

    Handles ``$defs``/``$ref`` as produced by pydantic's ``model_json_schema()``.
    Results are cached per schema, since the conversion costs a few ms per call.
    """
    try:
        key = json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"json_schema is not JSON-serialisable: {exc}") from exc
    try:
        return _schema_to_gbnf(key)
    except Exception as exc:
        raise ValueError(f"cannot convert json_schema to a grammar: {exc}") from exc


def grammar_for(params: GenerationParams) -> str | None:
    """The GBNF grammar constraining this generation, if any."""
    if params.grammar is not None:
        return params.grammar
    if params.json_schema is not None:
        return json_schema_to_gbnf(params.json_schema)
    return None
