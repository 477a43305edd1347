"""Components under the reference's paths: chat messages and histories, documents,
`SimpleComponent`'s JSON, `Instruction`'s fields, generative unit tests, ReAct pieces."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mellea.backends.ollama import OllamaModelBackend
from mellea.core import CBlock, ModelOutputThunk, TemplateRepresentation
from mellea.stdlib.components import (
    Document,
    Instruction,
    Message,
    SimpleComponent,
    ToolMessage,
    as_chat_history,
    as_generic_chat_history,
)
from mellea.stdlib.components.chat import message_from_template_representation
from mellea.stdlib.components.docs.document import Document as DocumentByPath
from mellea.stdlib.components.react import (
    ReactInitiator,
    ReactThought,
    pin_react_initiator,
    react_summary_prompt,
)
from mellea.stdlib.components.unit_test_eval import TestBasedEval
from mellea.stdlib.context import ChatContext, LLMSummarizeCompactor, WindowCompactor
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer, Reply


def bodies(srv: LoopbackServer) -> list[dict[str, Any]]:
    return [r.body for r in srv.stats().for_path("/api/chat")]


def session(srv: LoopbackServer, ctx: Any = None) -> MelleaSession:
    return MelleaSession(OllamaModelBackend("m", base_url=srv.url), ctx)


# ----- Message ---------------------------------------------------------------------------------


def test_message_fields_and_role_check() -> None:
    msg = Message(
        "assistant", "done", tool_calls=[{"id": "c1", "type": "function", "function": {}}],
        thinking="hmm", provider_fields={"*": {"x": 1}},
    )  # fmt: skip
    assert msg.tool_calls is not None and msg.tool_calls[0]["id"] == "c1"
    assert msg.thinking == "hmm" and msg.provider_fields == {"*": {"x": 1}}
    assert msg.images is None and msg.audio is None and msg.tool_call_id is None
    assert str(msg) == "done" and "user" in str(Message.Role)
    with pytest.raises(ValueError):
        Message("robot", "x")  # type: ignore[arg-type]
    tool = Message("tool", "42", tool_call_id="c1", tool_name="calc")
    assert (tool.tool_call_id, tool.tool_name) == ("c1", "calc")
    result = ToolMessage("tool", "42", 42, "calc", {"x": 1}, None)
    assert result.tool_name == "calc" and result.name == "calc" and result.arguments == {"x": 1}


def test_documents_are_sent_after_the_content(loopback: LoopbackServer) -> None:
    doc = Document("Paris is the capital of France.", title="Atlas", doc_id="7")
    assert DocumentByPath is Document
    msg = Message("user", "What is the capital?", documents=[doc, "plain note"])
    assert [type(p).__name__ for p in msg.parts()] == ["CBlock", "Document", "Document"]
    m = session(loopback)
    m.act(msg)
    sent = bodies(loopback)[-1]["messages"][-1]["content"]
    assert sent == (
        "What is the capital?\n\n[Document 7]\nAtlas: Paris is the capital of France."
        "\n\n[Document]\nplain note"
    )


def test_a_message_with_tool_calls_and_a_tool_result_reach_the_wire(
    loopback: LoopbackServer,
) -> None:
    call = {"id": "c1", "type": "function",
            "function": {"name": "calc", "arguments": json.dumps({"x": 2})}}  # fmt: skip
    ctx = (
        ChatContext()
        .add(Message("user", "double 2"))
        .add(Message("assistant", "", tool_calls=[call]))
        .add(Message("tool", "4", tool_call_id="c1", tool_name="calc"))
    )
    m = session(loopback, ctx)
    m.chat("thanks")
    sent = bodies(loopback)[-1]["messages"]
    assert sent[1]["tool_calls"][0]["function"] == {"name": "calc", "arguments": {"x": 2}}
    assert sent[2]["role"] == "tool" and sent[2]["content"] == "4"


def test_a_chat_reply_carries_its_tool_calls_in_the_openai_shape(
    loopback: LoopbackServer,
) -> None:
    def calc(x: int) -> int:
        """Double a number.

        Args:
            x: The number.
        """
        return 2 * x

    loopback.enqueue(Reply(tool_calls=[{"name": "calc", "arguments": {"x": 2}}]))
    reply = session(loopback).chat(
        "double 2", model_options={"@@@tools@@@": [calc]}, tool_calls=True
    )
    assert reply.tool_calls is not None
    assert reply.tool_calls[0]["function"]["name"] == "calc"
    assert json.loads(reply.tool_calls[0]["function"]["arguments"]) == {"x": 2}


# ----- histories -------------------------------------------------------------------------------


def test_as_chat_history_works_on_instructions_and_messages_alike(
    loopback: LoopbackServer,
) -> None:
    m = session(loopback, ChatContext())
    m.instruct("Write about {{topic}}.", user_variables={"topic": "cats"})
    m.chat("Shorter.")
    history = as_chat_history(m.ctx)
    assert [(h.role, h.content) for h in history] == [
        ("user", "Write about cats."),
        ("assistant", "Echo: Write about cats."),
        ("user", "Shorter."),
        ("assistant", "Echo: Shorter."),
    ]
    assert all(isinstance(h, Message) for h in history)


def test_as_generic_chat_history_uses_the_formatter_for_other_items() -> None:
    class Note(SimpleComponent):
        pass

    ctx = (
        ChatContext()
        .add(Message("system", "rules"))
        .add(Note(text="n"))
        .add(CBlock("raw"))
        .add(ModelOutputThunk("out", parsed_repr={"k": 1}))
    )
    default = as_generic_chat_history(ctx)
    assert [h.content for h in default] == ["rules", '{"text": "n"}', "raw", "out"]
    custom = as_generic_chat_history(ctx, formatter=lambda o: f"<{type(o).__name__}>")
    assert [h.content for h in custom] == ["rules", "<Note>", "raw", "<dict>"]
    assert [h.role for h in custom] == ["system", "user", "user", "assistant"]


def test_message_from_template_representation_honours_the_declared_role() -> None:
    tr = TemplateRepresentation(obj=None, args={})
    assert message_from_template_representation(tr, default_role="user", content="x").role == "user"
    tr.role = "tool"  # type: ignore[attr-defined]
    tr.tool_call_id = "c9"  # type: ignore[attr-defined]
    msg = message_from_template_representation(tr, default_role="user", content="x")
    assert msg.role == "tool" and msg.tool_call_id == "c9"


# ----- SimpleComponent, Instruction ---------------------------------------------------------------


def test_simple_component_is_sent_as_json(loopback: LoopbackServer) -> None:
    x = ModelOutputThunk("2")
    comp = SimpleComponent(instruction="What is x+y?", x=x, y=CBlock("4"), doc=Document("d"))
    assert comp.format_for_llm() == json.dumps(
        {"instruction": "What is x+y?", "x": "2", "y": "4", "doc": "[Document]\nd"}
    )
    assert SimpleComponent.make_simple_string({"a": CBlock("1")}) == "<|a|>1</|a|>"
    assert SimpleComponent.make_json_string({"a": "1"}) == '{"a": "1"}'
    session(loopback).act(comp)
    assert json.loads(bodies(loopback)[-1]["messages"][-1]["content"])["y"] == "4"
    with pytest.raises(TypeError):
        SimpleComponent(n=3)


def test_instruction_fields() -> None:
    ins = Instruction("Hi {{who}}", ["Be brief"], user_variables={"who": "Ada"}, audio=["a"])
    assert ins.description == "Hi Ada" and ins.requirements[0].description == "Be brief"
    assert ins.audio == ["a"] and ins.images is None
    assert Instruction.apply_user_dict_from_jinja({"n": "3"}, "n={{n}}") == "n=3"


# ----- generative unit tests --------------------------------------------------------------------

EVAL_FILE = [
    {
        "source": "professional-email-writing",
        "name": "case_001",
        "instructions": "The email should follow the instructions in the input.",
        "id": "tc-001",
        "examples": [
            {
                "input_id": "ex-001",
                "input": [{"role": "user", "content": "Write a follow-up email"}],
                "targets": [
                    {"role": "assistant", "content": "Thank you for your time."},
                    {"role": "assistant", "content": "I appreciate the interview."},
                ],
            },
            {"input_id": "ex-002", "input": [{"role": "user", "content": "Write a thank-you"}]},
        ],
    }
]


def test_test_based_eval_loads_and_judges(tmp_path: Path, loopback: LoopbackServer) -> None:
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(EVAL_FILE))
    (case,) = TestBasedEval.from_json_file(str(path))
    assert case.inputs == ["Write a follow-up email", "Write a thank-you"]
    assert case.targets == [["Thank you for your time.", "I appreciate the interview."], []]
    assert case.test_id == "tc-001" and case.input_ids == ["ex-001", "ex-002"]
    with pytest.raises(ValueError, match="set_judge_context"):
        case.format_for_llm()
    case.set_judge_context(case.inputs[0], "Thanks!", case.targets[0])
    loopback.enqueue(Reply(text='{"score": 1, "justification": "ok"}'))
    verdict = session(loopback).act(case)
    assert json.loads(verdict.value or "")["score"] == 1
    prompt = bodies(loopback)[-1]["messages"][-1]["content"]
    assert "Write a follow-up email" in prompt and "Thanks!" in prompt
    assert "1. Thank you for your time.\n2. I appreciate the interview." in prompt
    assert "The email should follow the instructions in the input." in prompt
    case.set_judge_context(case.inputs[1], "Thanks!", [])
    session(loopback).act(case)
    assert "Reference answer" not in bodies(loopback)[-1]["messages"][-1]["content"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{**EVAL_FILE[0], "examples": []}]))
    with pytest.raises(ValueError, match="test #0"):
        TestBasedEval.from_json_file(str(bad))


# ----- ReAct components ---------------------------------------------------------------------------


def test_react_initiator_offers_the_tools_and_the_finalizer() -> None:
    def search(query: str) -> str:
        """Search.

        Args:
            query: what to look for.
        """
        return query

    init = ReactInitiator("find x", [search])
    rep = init.format_for_llm()
    assert sorted(rep.tools or {}) == ["final_answer", "search"]
    assert "final_answer" in str(ReactThought().format_for_llm())
    items: list[Any] = [Message("system", "s"), init, ModelOutputThunk("a"), CBlock("b")]
    assert pin_react_initiator(items) == 2 and pin_react_initiator(items[2:]) == 0
    kept = WindowCompactor(size=1, pin_predicate=pin_react_initiator).compact(
        ChatContext().add(items[0]).add(init).add(items[2]).add(items[3])
    )
    assert kept.as_list() == [items[0], init, items[3]]


def test_react_summary_prompt_fills_into_the_summarizer() -> None:
    prompt = react_summary_prompt(goal="find {x}", max_tokens_hint=200)
    assert "GOAL: find {x}" in prompt.format(conversation="...")
    assert "200 tokens" in prompt and "200" not in react_summary_prompt()
    LLMSummarizeCompactor(default_backend=None, prompt_template=prompt)  # type: ignore[arg-type]
