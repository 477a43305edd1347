"""The reference's tool helpers: schemas (`OllamaTool`), argument validation, tool calls
written as JSON in text, and collecting offered tools."""

from __future__ import annotations

import logging

import pytest
from pydantic import BaseModel

from mellea.backends import ModelOption
from mellea.backends.tools import (
    MelleaTool,
    OllamaTool,
    SubscriptableBaseModel,
    add_tools_from_context_actions,
    add_tools_from_model_options,
    convert_function_to_ollama_tool,
    convert_tools_to_json,
    find_func,
    get_code_field_from_schema,
    json_extraction,
    parse_tools,
    tool,
    validate_tool_arguments,
)
from mellea.core.base import Component, TemplateRepresentation
from mellea.core.errors import ToolArgumentsError
from mellea.core.thunk import ModelToolCall
from mellea.stdlib.components import Instruction


class Address(BaseModel):
    city: str
    zip_code: str


def get_weather(location: str, days: int = 1, address: Address | None = None) -> str:
    """Forecast for a place.

    Args:
        location: City name.
        days: How many days.
    """
    return f"{location}:{days}"


def test_as_json_tool_is_a_property_in_the_openai_shape() -> None:
    t = MelleaTool.from_callable(get_weather)
    entry = t.as_json_tool
    assert entry["type"] == "function"
    fn = entry["function"]
    assert fn["name"] == "get_weather" and fn["description"] == "Forecast for a place."
    assert fn["parameters"]["required"] == ["location"]
    assert fn["parameters"]["properties"]["days"] == {
        "type": "integer", "default": 1, "description": "How many days.",
    }  # fmt: skip
    assert "Address" in fn["parameters"]["$defs"]  # a valid JSON schema, refs resolvable


def test_tool_built_from_a_given_schema() -> None:
    schema = {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Look something up.",
            "parameters": {
                "type": "object",
                "properties": {"key": {"type": "string"}, "n": {"type": "integer"}},
                "required": ["key"],
                "additionalProperties": False,
            },
        },
    }
    t = MelleaTool("lookup", lambda key, n=1: key * n, schema)
    assert t.as_json_tool == schema
    assert t.run("ab", n=2) == "abab"
    assert validate_tool_arguments(t, {"key": "k", "n": "3"}) == {"key": "k", "n": 3}
    with pytest.raises(ToolArgumentsError) as info:
        validate_tool_arguments(t, {"n": "x", "extra": 1}, strict=True)
    assert sorted(info.value.errors) == [
        "extra: unexpected argument", "key: missing", "n: expected integer, got 'x'",
    ]  # fmt: skip


def test_validate_tool_arguments_coerces_warns_or_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    t = tool(get_weather)
    assert validate_tool_arguments(t, {"location": "Oslo", "days": "3"}) == {
        "location": "Oslo",
        "days": 3,
    }
    nested = validate_tool_arguments(
        t, {"location": "x", "address": {"city": "R", "zip_code": "1"}}
    )
    assert nested["address"] == Address(city="R", zip_code="1")
    # Without coercion "3" is not an int; not strict: a warning, arguments unchanged.
    with caplog.at_level(logging.WARNING, logger="mellea"):
        args = validate_tool_arguments(t, {"location": "Oslo", "days": "3"}, coerce_types=False)
    assert args == {"location": "Oslo", "days": "3"}
    assert "days" in caplog.text
    with pytest.raises(ToolArgumentsError, match="days"):
        validate_tool_arguments(t, {"location": "Oslo", "days": "many"}, strict=True)
    with pytest.raises(ValueError):  # ToolArgumentsError is a ValueError, as pydantic's is
        validate_tool_arguments(t, {}, strict=True)


def test_tool_decorator_forms() -> None:
    @tool(name="weather_api")
    def weather(location: str) -> str:
        """Weather."""
        return location

    assert isinstance(weather, MelleaTool) and weather.name == "weather_api"
    assert weather.run(location="Rome") == "Rome"
    renamed = tool(get_weather, name="forecast")
    assert renamed.as_json_tool["function"]["name"] == "forecast"


def test_convert_function_to_ollama_tool() -> None:
    t = convert_function_to_ollama_tool(get_weather)
    assert isinstance(t, OllamaTool) and isinstance(t, SubscriptableBaseModel)
    assert t["function"]["name"] == "get_weather"
    assert t.get("type") == "function" and t.get("missing", 5) == 5
    params = t.function.parameters  # type: ignore[union-attr]
    assert params is not None and params.required == ["location"]
    assert params["properties"]["location"].description == "City name."
    wire = t.to_json()
    assert wire == MelleaTool.from_callable(get_weather).as_json_tool
    assert convert_function_to_ollama_tool(get_weather, "other").function.name == "other"  # type: ignore[union-attr]


def test_json_tool_calls_in_plain_text() -> None:
    text = (
        'Sure. {"name": "get_weather", "arguments": {"location": "Oslo"}} then '
        '{"function": {"name": "add", "arguments": "{\\"a\\": 1}"}} {broken} '
        '[{"name": "f", "parameters": {"x": 2}}] {"not": "a call"}'
    )
    assert [o for o in json_extraction('a {"x": {"y": 1}} b {oops} {"z": 2}')] == [
        {"x": {"y": 1}},
        {"z": 2},
    ]
    assert parse_tools(text) == [
        ("get_weather", {"location": "Oslo"}),
        ("add", {"a": 1}),
        ("f", {"x": 2}),
    ]
    assert find_func({"outer": {"name": "g", "arguments": {}}}) == ("g", {})
    assert find_func([1, 2]) == (None, None) and find_func("text") == (None, None)


def test_code_field_of_a_tool_call() -> None:
    def run_code(language: str, code: str) -> str:
        """Run."""
        return code

    def shell(command: str) -> str:
        """Shell."""
        return command

    def call(fn: object) -> ModelToolCall:
        t = MelleaTool.from_callable(fn)  # type: ignore[arg-type]
        return ModelToolCall(t.name, t, {})

    assert get_code_field_from_schema(call(run_code)) == "code"
    assert get_code_field_from_schema(call(shell)) == "command"
    assert get_code_field_from_schema(call(get_weather)) is None
    assert get_code_field_from_schema(ModelToolCall("x", None, {})) is None


def test_collecting_offered_tools() -> None:
    tools: dict[str, object] = {}
    add_tools_from_model_options(tools, {ModelOption.TOOLS: [get_weather]})
    assert list(tools) == ["get_weather"]

    class Offering(Component[str]):
        def format_for_llm(self) -> TemplateRepresentation:
            return TemplateRepresentation(
                obj=self, args={"text": "x"}, tools={"shout": lambda text: text.upper()}
            )

    add_tools_from_context_actions(tools, [Instruction("plain"), Offering()])
    add_tools_from_context_actions(tools, None)
    assert sorted(tools) == ["get_weather", "shout"]
    entries = convert_tools_to_json(tools)  # type: ignore[arg-type]
    assert [e["function"]["name"] for e in entries] == ["get_weather", "shout"]
