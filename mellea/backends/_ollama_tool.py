"""`OllamaTool`: the tool entry of Ollama's (and OpenAI's) chat API as a pydantic model.

Mirrors the shape of the Ollama Python SDK's `Tool` type, for programs that build or
inspect tool schemas through it; the backends themselves send `MelleaTool.as_json_tool`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ._tool_schema import tool_spec


class SubscriptableBaseModel(BaseModel):
    """A pydantic model whose fields also read and write as `model["field"]`."""

    def __getitem__(self, key: str) -> Any:
        if key in type(self).model_fields or key in (self.model_extra or {}):
            return getattr(self, key)
        raise KeyError(key)

    def __setitem__(self, key: str, value: Any) -> None:
        setattr(self, key, value)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        if key in self.model_fields_set or key in (self.model_extra or {}):
            return True
        return key in type(self).model_fields and getattr(self, key) is not None

    def get(self, key: str, default: Any = None) -> Any:
        """`self[key]` if the field is set, else `default`."""
        return self[key] if key in self else default


class OllamaTool(SubscriptableBaseModel):
    """`{"type": "function", "function": {"name", "description", "parameters"}}`."""

    class Function(SubscriptableBaseModel):
        """The callable's name, description and parameters schema."""

        class Parameters(SubscriptableBaseModel):
            """A JSON schema of type object: the callable's parameters (other JSON-schema
            keywords, e.g. `additionalProperties`, are kept as given)."""

            model_config = ConfigDict(populate_by_name=True, extra="allow")

            class Property(SubscriptableBaseModel):
                """One parameter's schema (other JSON-schema keywords are kept as given)."""

                model_config = ConfigDict(extra="allow")

                type: str | Sequence[str] | None = None
                items: Any | None = None
                description: str | None = None
                enum: Sequence[Any] | None = None
                properties: Mapping[str, Any] | None = None
                required: Sequence[str] | None = None
                title: str | None = None

            type: Literal["object"] | None = "object"
            defs: Any | None = Field(default=None, alias="$defs")
            items: Any | None = None
            required: Sequence[str] | None = None
            properties: Mapping[str, Property] | None = None

        name: str | None = None
        description: str | None = None
        parameters: Parameters | None = None

    type: str | None = "function"
    function: Function | None = None

    def to_json(self) -> dict[str, Any]:
        """The wire form (a plain JSON-schema dict, `$defs` under its JSON name)."""
        return self.model_dump(by_alias=True, exclude_unset=True)


def convert_function_to_ollama_tool(
    func: Callable[..., Any], name: str | None = None
) -> OllamaTool:
    """The `OllamaTool` of a Python callable: its signature (pydantic models included) and
    docstring (summary and `Args:` descriptions), under `name` or the function's name."""
    tool_name = name or getattr(func, "__name__", None) or type(func).__name__
    description, _, schema = tool_spec(func, tool_name)
    return OllamaTool(
        type="function",
        function=OllamaTool.Function(
            name=tool_name,
            description=description,
            parameters=OllamaTool.Function.Parameters.model_validate(schema),
        ),
    )


__all__ = ["OllamaTool", "SubscriptableBaseModel", "convert_function_to_ollama_tool"]
