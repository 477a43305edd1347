"""`DummyBackend`: scripted replies for users' unit tests, through the real call path."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import BaseModel

from mellea import MelleaSession, generative
from mellea.backends import ModelOption
from mellea.backends.dummy import DummyBackend
from mellea.backends.tools import tool
from mellea.core.errors import BackendError, InvalidOptionError
from mellea.stdlib.context import ChatContext


class City(BaseModel):
    name: str
    population: int


def test_replies_in_call_order_and_history_rendered() -> None:
    backend = DummyBackend(["Paris", "Rome"])
    m = MelleaSession(backend, ctx=ChatContext())
    assert m.instruct("Capital of France?").value == "Paris"
    reply = m.chat("And of Italy?")
    assert str(reply) == "Rome"
    assert backend.idx == 2
    # The second call saw the first turn: the prompt is rendered as for a real model.
    second = backend.calls[1]
    assert [msg["role"] for msg in second] == ["user", "assistant", "user"]
    assert second[1]["content"] == "Paris" and second[2]["content"] == "And of Italy?"
    with pytest.raises(BackendError, match="scripted with 2 responses"):
        m.instruct("One more?")


def test_none_answers_dummy_forever() -> None:
    m = MelleaSession(DummyBackend(None))
    assert [m.instruct(f"q{i}").value for i in range(3)] == ["dummy"] * 3


def test_format_and_generative_functions_parse_scripted_json() -> None:
    m = MelleaSession(DummyBackend(['{"name": "Oslo", "population": 700000}', "not json"]))
    out = m.instruct("Describe Oslo.", format=City)
    assert out.parsed_repr == City(name="Oslo", population=700000)

    @generative
    def biggest(country: str) -> City:
        """The biggest city of the country."""

    backend = DummyBackend(['{"name": "Bergen", "population": 290000}'])
    assert biggest(MelleaSession(backend), country="Norway") == City(
        name="Bergen", population=290000
    )


def test_streaming_arrives_in_pieces() -> None:
    async def main() -> list[str]:
        m = MelleaSession(DummyBackend(["one two three"], stream_delay=0.05))
        mot = await m.ainstruct("count", model_options={ModelOption.STREAM: True})
        return [chunk async for chunk in mot]

    chunks = asyncio.run(main())
    assert "".join(chunks) == "one two three"
    assert len(chunks) >= 2  # pieces, not one block (exact splits depend on scheduling)


def test_options_are_validated_like_a_real_engine() -> None:
    m = MelleaSession(DummyBackend(["x"]))
    with pytest.raises(InvalidOptionError):
        m.instruct("q", model_options={ModelOption.MAX_NEW_TOKENS: -1})
    with pytest.raises(InvalidOptionError, match="logits"):
        m.instruct("q", model_options={ModelOption.LOGITS: True})
    assert m.instruct("q").value == "x"  # a refused call used no reply


def test_concurrent_calls_take_replies_in_call_order() -> None:
    async def main() -> list[str]:
        m = MelleaSession(DummyBackend([f"r{i}" for i in range(20)]))
        mots = [await m.ainstruct(f"q{i}") for i in range(20)]
        return list(await asyncio.gather(*(mot.avalue() for mot in mots)))

    assert asyncio.run(main()) == [f"r{i}" for i in range(20)]


def test_scripted_tool_call() -> None:
    @tool
    def get_weather(city: str) -> str:
        """Weather of a city."""
        return f"sunny in {city}"

    m = MelleaSession(DummyBackend(['{"name": "get_weather", "arguments": {"city": "Oslo"}}']))
    out = m.instruct(
        "Weather in Oslo?", model_options={ModelOption.TOOLS: [get_weather]}, tool_calls=True
    )
    assert out.tool_calls is not None
    (call,) = out.tool_calls.values()
    assert call.name == "get_weather" and call.call_func() == "sunny in Oslo"
