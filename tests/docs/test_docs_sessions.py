"""Docs pages on sessions, contexts and backends: "Context and Sessions" (concept and how-to),
"Quick Start", "Backends and Configuration", "Configure Model Options", the FAQ — each
example unchanged, on the loopback server."""

from __future__ import annotations

from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.openai import OpenAIBackend
from mellea.core import ContextTurn
from mellea.stdlib.context import ChatContext, SimpleContext, WindowCompactor
from mellea.stdlib.session import MelleaSession
from tests.docs._harness import chat_bodies, last_user_text, openai_bodies
from tests.docs.conftest import Runner
from tests.servers import LoopbackServer, Reply

TIMES = "\N{MULTIPLICATION SIGN}"  # as the pages write it


def contents(body: dict[str, object]) -> list[str]:
    return [m["content"] for m in body["messages"]]  # type: ignore[attr-defined,index]


# ----- Context and Sessions (concepts) ---------------------------------------------------------


def test_start_session_and_explicit_construction(run: Runner, loopback: LoopbackServer) -> None:
    ran = run("concepts_context-and-sessions/01")
    assert ran.ns["result"].value == "Echo: Summarise this paragraph in one sentence."
    m = run("concepts_context-and-sessions/02").ns["m"]
    assert isinstance(m.ctx, ChatContext) and m.backend.model_options == {"temperature": 0.2}
    m = run("concepts_context-and-sessions/03").ns["m"]
    assert isinstance(m.ctx, SimpleContext) and m.backend.model_id == "granite4.1:3b"
    assert len(chat_bodies(loopback)) == 1  # constructing sessions sends nothing


def test_chat_context_sends_the_earlier_turns(run: Runner, loopback: LoopbackServer) -> None:
    ran = run("concepts_context-and-sessions/04")
    assert ran.out == "Echo: Now solve the problem you just made up.\n"
    assert contents(chat_bodies(loopback)[-1]) == [
        "Make up a math problem.",
        "Echo: Make up a math problem.",
        "Now solve the problem you just made up.",
    ]


def test_window_size(run: Runner) -> None:
    ctx = run("concepts_context-and-sessions/05").ns["ctx"]
    assert ctx.window_size == 10 and isinstance(ctx.compactor, WindowCompactor)


def test_cloned_sessions_branch_from_the_same_history(
    run: Runner, loopback: LoopbackServer
) -> None:
    loopback.enqueue(Reply(text="4", match=f"Multiply 2 {TIMES} 2."))
    loopback.enqueue(Reply(text="12", match="by 3"), Reply(text="20", match="by 5"))
    assert run("concepts_context-and-sessions/06").out == "12\n20\n"
    first, second = chat_bodies(loopback)[1:]
    assert contents(first) == [f"Multiply 2 {TIMES} 2.", "4", "Multiply that result by 3."]
    assert contents(second) == [f"Multiply 2 {TIMES} 2.", "4", "Multiply that result by 5."]


def test_inspecting_the_last_output_and_turn(run: Runner) -> None:
    ran = run("concepts_context-and-sessions/07")
    assert ran.out == "Echo: And its population?\n"
    turn = ran.ns["turn"]
    assert isinstance(turn, ContextTurn) and str(turn.model_input) == "And its population?"
    assert turn.output is not None and turn.output.value == "Echo: And its population?"


# ----- Context and Sessions (how-to) ---------------------------------------------------------


def test_context_types_and_inspection(run: Runner, loopback: LoopbackServer) -> None:
    m = run("how-to_use-context-and-sessions/01").ns["m"]
    assert isinstance(m, MelleaSession) and isinstance(m.ctx, ChatContext)
    ran = run("how-to_use-context-and-sessions/02")
    last, turn = ran.out.splitlines()
    assert last == "Echo: And what is its population?"
    assert turn.startswith("ContextTurn(") and "And what is its population?" in turn


def test_clone_with_coroutines_awaited_later(run: Runner, loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text="4", match="Multiply 2x2."))
    loopback.enqueue(Reply(text="12", match="by 3"), Reply(text="20", match="by 5"))
    assert run("how-to_use-context-and-sessions/03").out == "12\n20\n"
    assert all(contents(b)[:2] == ["Multiply 2x2.", "4"] for b in chat_bodies(loopback)[1:])


# ----- Quick Start -----------------------------------------------------------------------------


def test_quickstart(run: Runner, loopback: LoopbackServer) -> None:
    invite = "Write an email inviting interns to an office party at 3:30pm."
    assert run("getting-started_quickstart/01").out == f"Echo: {invite}\n"
    assert run("getting-started_quickstart/02").out == f"Echo: {invite}\n"
    assert chat_bodies(loopback)[-1]["model"] == "granite4.1:3b"  # IBM_GRANITE_4_1_3B's name
    ran = run("getting-started_quickstart/03")
    assert ran.out == (
        "Echo: Write an email to Olivia using the notes following: Organized intern events "
        "and handled issues with snack delivery..\n"
    )


def test_quickstart_requirements_are_checked(run: Runner, loopback: LoopbackServer) -> None:
    judge = "Decide whether the output below meets this requirement"
    loopback.enqueue(Reply(text="Dear Olivia, thanks!", match="Write an email to Olivia"))
    loopback.enqueue(Reply(text="yes", match=judge), Reply(text="No: capitals.", match=judge))
    loopback.enqueue(Reply(text="dear olivia, thanks!", match="Write an email to Olivia"))
    loopback.enqueue(Reply(text="yes", match=judge, times=2))
    assert run("getting-started_quickstart/04").out == "dear olivia, thanks!\n"
    bodies = chat_bodies(loopback)
    assert len(bodies) == 6  # attempt, 2 judges, repaired attempt, 2 judges
    assert "Use only lower-case letters." in last_user_text(bodies[3])


# ----- Backends and Configuration, Model Options -------------------------------------------------


def test_backend_selection(run: Runner, loopback: LoopbackServer) -> None:
    assert isinstance(
        run("how-to_backends-and-configuration/01").ns["m"].backend, OllamaModelBackend
    )
    assert run("how-to_backends-and-configuration/02").ns["m"].backend.model_id == "llama3.2:3b"
    m = run("how-to_backends-and-configuration/03").ns["m"]
    assert m.backend.model_id == "granite3.3:8b"
    m = run("how-to_backends-and-configuration/04").ns["m"]
    assert isinstance(m.backend, OpenAIBackend) and isinstance(m.ctx, ChatContext)
    m = run("how-to_backends-and-configuration/05").ns["m"]
    assert isinstance(m.backend, OpenAIBackend) and m.backend.model_id == "qwen2.5vl:7b"
    m = run("how-to_backends-and-configuration/10").ns["m"]
    assert m.backend.model_id == "phi4-mini:latest" and isinstance(m.ctx, ChatContext)
    m = run("how-to_backends-and-configuration/11").ns["m"]
    assert isinstance(m.ctx, ChatContext) and m.backend.model_id == "phi4-mini:latest"
    assert chat_bodies(loopback) == []  # no request until something is asked


def test_model_options_reach_the_wire(run: Runner, loopback: LoopbackServer) -> None:
    assert run("how-to_backends-and-configuration/08").out == f"Echo: What is 2 {TIMES} 2?\n"
    assert chat_bodies(loopback)[-1]["options"] == {
        "seed": 42, "temperature": 0.5, "num_predict": 15,
    }  # fmt: skip
    assert run("how-to_configure-model-options/01").out == "Echo: What is 2x2?\n"
    assert chat_bodies(loopback)[-1]["options"] == {
        "seed": 42, "temperature": 0.5, "num_predict": 10,
    }  # fmt: skip
    assert run("how-to_backends-and-configuration/09").out == (
        "Echo: What is the capital of France?\n"
    )
    assert chat_bodies(loopback)[-1]["messages"][0] == {
        "role": "system", "content": "You are a concise assistant.",
    }  # fmt: skip


# ----- FAQ ---------------------------------------------------------------------------------------


def test_faq_sessions(run: Runner, loopback: LoopbackServer) -> None:
    m = run("troubleshooting_faq/01").ns["m"]
    assert m.backend.base_url.startswith("http://my-ollama-host:11434")
    assert run("troubleshooting_faq/02").out == "Echo: What is 1+1?\n"
    assert chat_bodies(loopback)[-1]["model"] == "llama3.2:latest"
    assert run("troubleshooting_faq/03").ns["m"].backend.model_id == "mistral:latest"
    ran = run("troubleshooting_faq/04")
    assert ran.out == "Echo: Hello!\n" and openai_bodies(loopback)[-1]["model"] == "gpt-4o"
    assert ran.ns["m"].backend.model_id == "anthropic/claude-3-5-sonnet-20241022"


def test_faq_user_variables_and_generative(run: Runner, loopback: LoopbackServer) -> None:
    assert callable(run("troubleshooting_faq/05").ns["extract_keywords"])
    result = run("troubleshooting_faq/07").ns["result"]
    assert result.value == "Echo: Translate the following into French: Hello, world!"
    loopback.enqueue(Reply(text="Bonjour, le monde !"))
    assert run("troubleshooting_faq/08").ns["result"] == "Bonjour, le monde !"
    loopback.enqueue(Reply(text="A summary."))
    assert run("troubleshooting_faq/10").out == "A summary.\n"
