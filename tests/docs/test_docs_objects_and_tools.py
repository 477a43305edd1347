"""Docs pages on objects and tools: "MObjects and mify", "Working with Data", tutorial 05,
"Tools and Agents", "Execute Tool Calls", tutorials 03 and 04 — each example unchanged, on
the loopback server."""

from __future__ import annotations

import asyncio
import json

from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.tools import MelleaTool
from tests.docs._harness import chat_bodies, last_user_text
from tests.docs.conftest import Runner
from tests.servers import LoopbackServer, Reply


def tool_names(body: dict[str, object]) -> list[str]:
    return sorted(t["function"]["name"] for t in body.get("tools", []))  # type: ignore[attr-defined]


# ----- MObjects and mify ------------------------------------------------------------------------


def test_query_a_mified_table(run: Runner, loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text="$250."))
    assert run("concepts_mobjects-and-mify/01").out == "$250.\n"
    sent = last_user_text(chat_bodies(loopback)[-1])
    assert "| Northeast  | $250   |" in sent and "Northeast branch" in sent
    assert "tools" not in chat_bodies(loopback)[-1]  # internal_method has no docstring


def test_mified_loader_exposes_only_its_documented_constructor(
    run: Runner, loopback: LoopbackServer
) -> None:
    loader = run("concepts_mobjects-and-mify/02").ns["DocumentLoader"]()
    assert sorted(loader.format_for_llm().tools) == ["from_markdown"]
    loopback.enqueue(
        Reply(tool_calls=[{"name": "from_markdown", "arguments": {"text": "Peaks in snow"}}])
    )
    assert run("how-to_working-with-data/07").out.startswith("<")  # a DocumentLoader object
    assert tool_names(chat_bodies(loopback)[-1]) == ["from_markdown"]


def test_working_with_data(run: Runner, loopback: LoopbackServer) -> None:
    out = run("how-to_working-with-data/01").out
    assert out.startswith("Echo: Given the documents in the context, answer: How are AI and NLP")
    assert "[doc1]\nNatural Language Processing" in out
    loopback.enqueue(Reply(text="Midwest."))
    assert run("how-to_working-with-data/03").out == "Midwest.\n"
    loopback.enqueue(Reply(text="$250"))
    loopback.enqueue(Reply(tool_calls=[{"name": "transpose", "arguments": {}}]))
    assert run("how-to_working-with-data/04").out == "$250\nNone\n"  # transpose() returns None
    loopback.enqueue(Reply(text="Watering Can"))
    assert run("how-to_working-with-data/05").out == "Watering Can\n"
    assert "purchases: ['Beans', 'Soil', 'Watering Can']" in last_user_text(
        chat_bodies(loopback)[-1]
    )
    branch = run("how-to_working-with-data/06").ns["Branch"]("Austin", "Kim")
    assert branch.content_as_string() == "Location: Austin, Manager: Kim"


def test_tutorial_05_queries(run: Runner, loopback: LoopbackServer) -> None:
    run("tutorials_05-mifying-legacy-code/02")
    assert "last_purchase: wireless headphones" in last_user_text(chat_bodies(loopback)[-1])
    run("tutorials_05-mifying-legacy-code/03")
    assert "Year-to-date spend: £1240.50" in last_user_text(chat_bodies(loopback)[-1])
    run("tutorials_05-mifying-legacy-code/04")
    sent = last_user_text(chat_bodies(loopback)[-1])
    assert "Ada — spent £1240.5 this year" in sent and "headphones" not in sent
    run("tutorials_05-mifying-legacy-code/06")
    assert "name: Acme Corp\nvalue: 58000.0" in last_user_text(chat_bodies(loopback)[-1])


def test_tutorial_05_transform_calls_the_method(run: Runner, loopback: LoopbackServer) -> None:
    note = "Ordered wireless headphones for home use."
    loopback.enqueue(Reply(tool_calls=[{"name": "to_summary", "arguments": {"summary": note}}]))
    assert run("tutorials_05-mifying-legacy-code/05").out == f"{note}\n"
    assert tool_names(chat_bodies(loopback)[-1]) == ["to_summary"]


# ----- Tools and agents --------------------------------------------------------------------------


def test_tool_definitions(run: Runner) -> None:
    get_weather = run("how-to_tools-and-agents/01").ns["get_weather"]
    assert get_weather.name == "get_weather"
    params = get_weather.as_json_tool["function"]["parameters"]
    assert params["required"] == ["location"]
    assert run("how-to_tools-and-agents/02").ns["calculate"].run("6*7") == "42"
    my_tool = run("how-to_tools-and-agents/04").ns["my_tool"]
    assert isinstance(my_tool, MelleaTool) and my_tool.run(4) == 8


def test_instruct_with_tools_offered(run: Runner, loopback: LoopbackServer) -> None:
    assert run("how-to_tools-and-agents/05").out == (
        "Echo: What is the weather like in San Francisco?\n"
    )
    assert tool_names(chat_bodies(loopback)[-1]) == ["get_weather"]


def test_simple_react_loop(run: Runner, loopback: LoopbackServer) -> None:
    ns = run("how-to_execute-tool-calls/07").ns

    def add(a: int, b: int) -> int:
        """Add two numbers.

        Args:
            a: first.
            b: second.
        """
        return a + b

    loopback.enqueue(Reply(tool_calls=[{"name": "add", "arguments": {"a": 2, "b": 3}}]))
    loopback.enqueue(Reply(text="FINAL ANSWER: 5"))
    backend = OllamaModelBackend("m", base_url=loopback.url)
    options = {"@@@tools@@@": [add]}

    async def go() -> str:
        # the docs' loop offers tools through the backend's options
        backend.model_options = options
        return str(await ns["simple_react"]("Add 2 and 3", backend, [add]))

    assert asyncio.run(go()) == "FINAL ANSWER: 5"
    assert chat_bodies(loopback)[-1]["messages"][-2]["role"] == "tool"


def test_tutorial_04_tool_results_reach_the_next_instruction(
    run: Runner, loopback: LoopbackServer
) -> None:
    loopback.enqueue(
        Reply(tool_calls=[
            {"name": "web_search", "arguments": {"query": "Mellea"}},
            {"name": "calculator", "arguments": {"expression": "len"}},
        ])
    )  # fmt: skip
    loopback.enqueue(Reply(text="Mellea is a Python framework; 'Mellea' has 6 letters."))
    out = run("tutorials_04-making-agents-reliable/01").out
    assert out == "Mellea is a Python framework; 'Mellea' has 6 letters.\n"
    sent = chat_bodies(loopback)[-1]["messages"]
    tool_results = [m["content"] for m in sent if m["role"] == "tool"]
    assert tool_results[0].startswith("Top result for 'Mellea'")
    assert tool_results[1] == "Error: expression contains disallowed characters."
    assert "tools" not in chat_bodies(loopback)[-1]  # tool_calls=False on the answer


# ----- Generative stubs (tutorial 03) ------------------------------------------------------------


def test_tutorial_03(run: Runner, loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text="negative"))
    assert run("tutorials_03-using-generative-stubs/01").out == "negative\n"
    assert callable(run("tutorials_03-using-generative-stubs/02").ns["classify_sentiment"])
    analysis = {"sentiment": "negative", "key_issue": "slow onboarding", "actionable": True}
    loopback.enqueue(Reply(text=json.dumps(analysis)))
    assert run("tutorials_03-using-generative-stubs/03").out == "negative slow onboarding True\n"
    loopback.enqueue(Reply(text=json.dumps(analysis), match="analyse_feedback"))
    loopback.enqueue(Reply(text="Sorry about the crash.", match="draft_response"))
    loopback.enqueue(Reply(text="Désolé pour le plantage.", match="translate"))
    assert run("tutorials_03-using-generative-stubs/04").out == "Désolé pour le plantage.\n"
    assert 'text = "Sorry about the crash."' in last_user_text(chat_bodies(loopback)[-1])


def test_tutorial_03_context_steers_the_functions(run: Runner, loopback: LoopbackServer) -> None:
    out = run("tutorials_03-using-generative-stubs/05").out.splitlines()
    assert out == [
        "Grade: 1", "Feedback: ['x']", "Grade with teacher context: 1",
        "Feedback with teacher context: ['x']", "Grade with grammar context: 1",
    ]  # fmt: skip
    bodies = chat_bodies(loopback)
    assert "encouraging primary school teacher" in bodies[2]["messages"][-2]["content"]
    assert bodies[4]["messages"][0]["content"].startswith("You are a grammar specialist")
    assert len(bodies[4]["messages"]) == 2  # reset dropped the teacher and earlier turns


def test_tutorial_03_pre_and_postconditions(run: Runner, loopback: LoopbackServer) -> None:
    assert run("tutorials_03-using-generative-stubs/06").out == (
        "Validation failed: Incomplete profile — missing: risk_tolerance, time_horizon, "
        "liquidity_needs\n"
    )
    profile = {"risk_tolerance": "low", "time_horizon": "3y", "liquidity_needs": "high"}
    loopback.enqueue(Reply(text=json.dumps({"result": profile}), match="analyse_client_profile"))
    loopback.enqueue(Reply(text="word " * 60, match="generate_advice_letter"))
    loopback.enqueue(Reply(text='{"result": "clean"}', match="detect_prohibited_language"))
    assert run("tutorials_03-using-generative-stubs/06").out == "word " * 59 + "word\n"
