"""Docs pages on instructions and requirements: "Instruct, Validate, Repair", tutorial 01,
"The Requirements System", "Write Custom Verifiers", "Architecture vs Agents", the RAG
page's relevance check — each example unchanged, on the loopback server."""

from __future__ import annotations

from mellea.core import CBlock, ModelOutputThunk, Requirement, ValidationResult
from mellea.stdlib.context import SimpleContext
from tests.docs._harness import chat_bodies, last_user_text
from tests.docs.conftest import Runner
from tests.servers import LoopbackServer, Reply

JUDGE = "Decide whether the output below meets this requirement"


def output_ctx(text: str) -> SimpleContext:
    """A context whose last output is `text` (what a validation function reads)."""
    return SimpleContext().add(CBlock("the instruction")).add(ModelOutputThunk(text))


def test_instruct_with_variables_and_grounding(run: Runner, loopback: LoopbackServer) -> None:
    assert run("concepts_instruct-validate-repair/01").out == (
        "Echo: Write an email inviting interns to an office party at 3:30pm.\n"
    )
    assert run("concepts_instruct-validate-repair/02").out == (
        "Echo: Write an email to Olivia using the notes following: Organized intern events..\n"
    )
    out = run("concepts_instruct-validate-repair/07").out
    assert out.startswith("Echo: Given the documents in the context, answer: What is the capital")
    assert "Its capital is Paris." in last_user_text(chat_bodies(loopback)[-1])


def test_requirements_are_validated_and_repaired(run: Runner, loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text="Hello team, MEETING at 3.", match="inviting the team"))
    loopback.enqueue(Reply(text="yes", match=JUDGE), Reply(text="no: capitals", match=JUDGE))
    loopback.enqueue(Reply(text="hello team, meeting at 3.", match="inviting the team"))
    loopback.enqueue(Reply(text="yes", match=JUDGE, times=2))
    assert run("concepts_instruct-validate-repair/03").out == "hello team, meeting at 3.\n"
    assert len(chat_bodies(loopback)) == 6
    ran = run("concepts_requirements-system/02")
    assert ran.ns["email"].sampling_result.success
    assert isinstance(run("concepts_requirements-system/01").ns["r"], Requirement)


def test_chat_turns(run: Runner, loopback: LoopbackServer) -> None:
    assert run("concepts_instruct-validate-repair/09").out == (
        "Echo: Now solve the problem you just made up.\n"
    )
    assert len(chat_bodies(loopback)[-1]["messages"]) == 3
    assert run("concepts_instruct-validate-repair/10").out == "Echo: What is 2 + 2?\n"


def test_tutorial_01(run: Runner, loopback: LoopbackServer) -> None:
    text = (
        "Summarise this customer feedback in one sentence: The onboarding was confusing and "
        "took far too long. Support was helpful once I got through."
    )
    assert run("tutorials_01-your-first-generative-program/01").out == f"Echo: {text}\n"
    assert run("tutorials_01-your-first-generative-program/02").out == f"Echo: {text}\n"
    loopback.enqueue(Reply(text="Slow onboarding; helpful support.", match="Summarise this"))
    loopback.enqueue(Reply(text="yes", match=JUDGE, times=2))
    out = run("tutorials_01-your-first-generative-program/03").out
    assert out == "Slow onboarding; helpful support.\n"
    judged = [last_user_text(b) for b in chat_bodies(loopback)[-2:]]
    assert any("The summary must be a single sentence." in j for j in judged)


def test_validation_functions(run: Runner) -> None:
    validate_json = run("concepts_requirements-system/06").ns["validate_json"]
    assert validate_json(output_ctx('{"a": 1}')).as_bool()
    assert validate_json(output_ctx("nope")).reason.startswith("Invalid JSON")
    email = run("how-to_write-custom-verifiers/02").ns["validate_email_format"]
    assert email(output_ctx(" ada@example.com ")).as_bool() and not email(output_ctx("ada"))
    strict_json = run("how-to_write-custom-verifiers/04").ns["validate_json"]
    assert "Error at position 0" in strict_json(output_ctx("x")).reason
    person = run("how-to_write-custom-verifiers/05").ns["validate_person_schema"]
    assert person(output_ctx('{"name": "A", "age": 3, "email": "a@b.c"}')).as_bool()
    assert "age" in person(output_ctx('{"name": "A", "email": "a@b.c"}')).reason
    iso = run("how-to_write-custom-verifiers/06").ns["validate_iso_date"]
    assert iso(output_ctx("2024-05-01")).as_bool() and not iso(output_ctx("May 1"))
    length = run("how-to_write-custom-verifiers/08").ns["validate_length_score"]
    scored: ValidationResult = length(output_ctx("one two"))
    assert scored.as_bool() and scored.score == 0.98
    assert length(output_ctx("w " * 101)).score == 0.0


def test_generative_relevance_check_and_architecture_snippets(
    run: Runner, loopback: LoopbackServer
) -> None:
    is_relevant = run("how-to_build-a-rag-pipeline/02").ns["is_relevant"]
    ran = run("concepts_architecture-vs-agents/03")
    assert ran.ns["result"].value == "Echo: Analyse customer feedback.\n\nRequirements:\n- ..."
    wrapper = run("concepts_architecture-vs-agents/04").ns["classify_wrapper"]
    loopback.enqueue(Reply(text='{"result": "neutral"}'))
    assert wrapper("It is fine.") == "neutral"
    loopback.enqueue(Reply(text='{"result": false}'))
    assert run("how-to_build-a-rag-pipeline/02").ns["is_relevant"] is not is_relevant
