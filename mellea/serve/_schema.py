"""`response_format` → the pydantic model handed to `serve()` as `format=`.

mellea's `format=` takes a pydantic model: the backend sends `model_json_schema()` and the
answer is parsed with `model_validate_json()`. A client's JSON schema is turned into such
a model *without translating it*: the model reports the client's schema verbatim and
validates with `jsonschema` (the reference JSON Schema validator, every draft), so no
keyword is lost in a schema → Python types → schema round trip. The parsed object is
`parsed.root`.

- `{"type": "json_schema", "json_schema": {"name", "schema"}}` → that schema;
- `{"type": "json_object"}` → any JSON object (`{"type": "object"}`);
- `{"type": "text"}` or none → None.

An invalid schema raises `InvalidSchema` (a 400 for the client).
"""

from __future__ import annotations

import copy
import re
from typing import Any, ClassVar

from pydantic import RootModel, model_validator

from ._wire import ResponseFormat


class InvalidSchema(ValueError):
    """The client's `response_format` schema is not a valid JSON Schema."""


class ClientSchemaModel(RootModel[Any]):
    """Base of the models built from a client's schema (see the module docstring)."""

    client_schema: ClassVar[dict[str, Any]] = {"type": "object"}

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return copy.deepcopy(cls.client_schema)

    @model_validator(mode="after")
    def _matches_client_schema(self) -> ClientSchemaModel:
        import jsonschema

        validator_cls = jsonschema.validators.validator_for(self.client_schema)
        error = jsonschema.exceptions.best_match(
            validator_cls(self.client_schema).iter_errors(self.root)
        )
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            raise ValueError(f"{where}: {error.message}")
        return self


def format_model(response_format: ResponseFormat | None) -> type[ClientSchemaModel] | None:
    """The `format=` model for a request's `response_format` (None for text)."""
    if response_format is None or response_format.type == "text":
        return None
    if response_format.type == "json_object":
        return _model("JsonObject", {"type": "object"})
    spec = response_format.json_schema
    if spec is None:
        raise InvalidSchema("response_format of type json_schema needs a json_schema object")
    schema = spec.schema_ or {"type": "object"}
    _check(schema)
    return _model(spec.name, schema)


def _check(schema: dict[str, Any]) -> None:
    import jsonschema

    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise InvalidSchema(f"invalid JSON schema at {where}: {exc.message}") from None


def _model(name: str, schema: dict[str, Any]) -> type[ClientSchemaModel]:
    class_name = re.sub(r"\W", "_", name) or "Response"
    if not class_name[0].isalpha():
        class_name = "Response_" + class_name
    namespace = {"client_schema": copy.deepcopy(schema), "__module__": __name__}
    return type(class_name, (ClientSchemaModel,), namespace)


__all__ = ["ClientSchemaModel", "InvalidSchema", "format_model"]
