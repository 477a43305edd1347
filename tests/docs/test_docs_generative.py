"""Docs pages on generative functions and typed output: "Generative Functions" (concept and
how-to), "Enforce Structured Output", "Handling Exceptions", the data-extraction example —
each example unchanged, on the loopback server.

Unscripted replies to a schema-constrained request are the schema's minimal instance
(first enum value, "x" for strings, 1 for numbers); scripted ones are the model's answer.
"""

from __future__ import annotations

import json

from tests.docs._harness import chat_bodies, last_user_text
from tests.docs.conftest import Runner
from tests.servers import LoopbackServer, Reply


def result(value: object) -> Reply:
    """The reply to a function returning a plain type (sent wrapped as {"result": ...})."""
    return Reply(text=json.dumps({"result": value}))


def model(value: dict[str, object]) -> Reply:
    """The reply to a function returning a pydantic model (sent as the model's JSON)."""
    return Reply(text=json.dumps(value))


def test_classifiers_return_one_of_the_literals(run: Runner, loopback: LoopbackServer) -> None:
    loopback.enqueue(result("negative"))
    assert run("concepts_generative-functions/01").out == "negative\n"
    assert run("how-to_generative-functions/01").out == "positive\n"
    enum = chat_bodies(loopback)[-1]["format"]["properties"]["result"]["enum"]
    assert enum == ["positive", "negative"]
    loopback.enqueue(result("high"))
    assert run("how-to_enforce-structured-output/01").out == "high\n"


def test_pydantic_results(run: Runner, loopback: LoopbackServer) -> None:
    feedback = {"summary": "Slow but good.", "sentiment": "mixed", "key_issue": "onboarding"}
    loopback.enqueue(model(feedback))
    assert run("concepts_generative-functions/02").out == "mixed\n"
    steps = [
        {"step_name": "Start", "step_content": "$50"},
        {"step_name": "Spend", "step_content": "-$12"},
    ]
    loopback.enqueue(model({"chain_name": "c", "step_by_step_solution": steps}))
    assert run("how-to_generative-functions/02").out == "Start: $50\nSpend: -$12\n"
    loopback.enqueue(model({"chain_name": "c", "step_by_step_solution": steps}), result(38))
    assert run("how-to_generative-functions/06").out == "38\n"
    assert '"step_name":"Spend"' in last_user_text(chat_bodies(loopback)[-1])


def test_structured_extraction(run: Runner, loopback: LoopbackServer) -> None:
    person = {"name": "Sarah Chen", "role": "senior backend developer", "department": "engineering"}
    loopback.enqueue(model(person))
    assert run("how-to_enforce-structured-output/02").out == "Sarah Chen senior backend developer\n"
    loopback.enqueue(result(["Alice Johnson", "Bob Lee"]))
    assert run("how-to_enforce-structured-output/03").out == "['Alice Johnson', 'Bob Lee']\n"
    address = {"street": "123 Main St", "city": "Springfield", "country": "USA"}
    loopback.enqueue(model({"name": "Acme", "industry": "manufacturing", "headquarters": address}))
    assert run("how-to_enforce-structured-output/04").out == "Springfield\n"
    assert isinstance(run("examples_data-extraction-pipeline/01").ns["generative"], object)
    loopback.enqueue(result(["President Obama", "Angela Merkel"]))
    assert run("examples_data-extraction-pipeline/04").out == (
        "person_names = ['President Obama', 'Angela Merkel']\n"
    )


def test_composed_generative_functions(run: Runner, loopback: LoopbackServer) -> None:
    run("concepts_generative-functions/03")
    run("concepts_generative-functions/04")
    loopback.enqueue(Reply(text="Budget risk; we recommend a pause.", match="summarize_meeting"))
    loopback.enqueue(Reply(text='{"result": "yes"}', match="contains_actionable_risks"))
    loopback.enqueue(Reply(text="Hedge the budget.", match="generate_risk_mitigation"))
    loopback.enqueue(Reply(text='{"result": "no"}', match="has_structured_conclusion"))
    ran = run(
        "concepts_generative-functions/05",
        after=["concepts_generative-functions/03", "concepts_generative-functions/04"],
    )
    assert ran.out == "Mitigation: Hedge the budget.\nSummary lacks a structured conclusion.\n"
    loopback.enqueue(Reply(text="Risky.", match="summarize_meeting"))
    loopback.enqueue(Reply(text='{"result": "yes"}', match="contains_actionable_risks"))
    loopback.enqueue(Reply(text="Insure it.", match="generate_risk_mitigation"))
    assert run("how-to_generative-functions/05").out == "Insure it.\n"
    assert 'summary = "Risky."' in last_user_text(chat_bodies(loopback)[-1])


def test_handling_errors(run: Runner, loopback: LoopbackServer) -> None:
    assert run("how-to_handling-exceptions/04").out == "Echo: Hello.\n"
    create = run("how-to_handling-exceptions/05").ns["create_session_or_none"]
    assert create() is not None and last_user_text(chat_bodies(loopback)[-1]) == "ping"
    loopback.enqueue(Reply(text="not json", times=2))  # the attempt and its retry
    assert run("how-to_handling-exceptions/06").out.startswith("Model output could not be parsed: ")
    loopback.enqueue(model({"name": "Alice", "email": "alice@example.com"}))
    assert run("how-to_handling-exceptions/07").out == "Alice alice@example.com\n"
    loopback.enqueue(Reply(text="nonsense", times=2))
    out = run("how-to_handling-exceptions/07").out
    assert out == (
        "Raw fallback: Echo: Extract the name and email from: Contact Alice at alice@example.com.\n"
    )


def test_handling_errors_when_the_server_is_down(
    run: Runner, loopback: LoopbackServer, monkeypatch: object
) -> None:
    loopback.enqueue(Reply(status=503, error_body="overloaded", times=-1))
    out = run("how-to_handling-exceptions/04").out
    assert out.startswith("Backend error: ") and "503" in out
