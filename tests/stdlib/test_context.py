"""Contexts: immutability, views, turns, windows and compactors."""

from __future__ import annotations

from mellea.backends.ollama import OllamaModelBackend
from mellea.core import CBlock, ModelOutputThunk
from mellea.stdlib.components import Instruction, Message
from mellea.stdlib.context import (
    ChatContext,
    SimpleContext,
    SummaryCompactor,
    ThresholdCompactor,
    WindowCompactor,
)
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer


def turns(ctx: ChatContext, n: int) -> ChatContext:
    for i in range(n):
        ctx = ctx.add(Message("user", f"q{i}")).add(ModelOutputThunk(f"a{i}"))
    return ctx


def test_add_returns_a_new_context_and_leaves_the_old_one() -> None:
    root = ChatContext(window_size=3)
    one = root.add(CBlock("a"))
    two = one.add(CBlock("b"))
    assert len(root) == 0 and len(one) == 1 and len(two) == 2
    assert [c.value for c in two.as_list()] == ["a", "b"]  # type: ignore[union-attr]
    assert two.window_size == 3 and isinstance(two, ChatContext)
    assert two.previous_node is one and one.is_root_node is False and root.is_root_node


def test_simple_context_keeps_history_but_sends_none() -> None:
    ctx = SimpleContext().add(CBlock("a")).add(ModelOutputThunk("b"))
    assert len(ctx.as_list()) == 2
    assert ctx.view_for_generation() == []


def test_last_output_and_last_turn() -> None:
    ctx = turns(ChatContext(), 2)
    assert ctx.last_output().value == "a1"  # type: ignore[union-attr]
    turn = ctx.last_turn()
    assert turn is not None
    assert isinstance(turn.input, Message) and turn.input.content == "q1"
    assert turn.output is not None and turn.output.value == "a1"
    pending = ctx.add(Message("user", "q2"))
    assert pending.last_turn().output is None  # type: ignore[union-attr]
    assert ChatContext().last_turn() is None and ChatContext().last_output() is None


def test_reset_keeps_kind_and_settings() -> None:
    ctx = turns(ChatContext(window_size=4), 3).reset_to_new()
    assert len(ctx) == 0 and isinstance(ctx, ChatContext) and ctx.window_size == 4


def test_window_size_limits_what_is_sent() -> None:
    ctx = turns(ChatContext(window_size=2), 3)
    view = ctx.view_for_generation()
    assert [getattr(v, "content", getattr(v, "value", None)) for v in view] == ["q2", "a2"]


def test_window_compactor_pins_the_system_message() -> None:
    ctx = ChatContext(compactor=WindowCompactor(2)).add(Message("system", "rules"))
    ctx = turns(ctx, 3)
    view = ctx.view_for_generation()
    assert isinstance(view[0], Message) and view[0].role == "system"
    assert len(view) == 3


def test_threshold_compactor_keeps_the_newest_items_that_fit() -> None:
    ctx = ChatContext(compactor=ThresholdCompactor(max_chars=10, keep_last=2))
    ctx = turns(ctx, 5)  # every item is 2 characters
    view = ctx.view_for_generation()
    assert len(view) == 5
    assert getattr(view[-1], "value", None) == "a4"
    tiny = ChatContext(compactor=ThresholdCompactor(max_chars=1, keep_last=2))
    assert len(turns(tiny, 5).view_for_generation()) == 2  # keep_last always survives


def test_summary_compactor_replaces_old_turns_with_a_model_summary(
    loopback: LoopbackServer,
) -> None:
    compactor = SummaryCompactor(trigger_items=4, keep_last=2)
    m = MelleaSession(
        OllamaModelBackend("m", base_url=loopback.url), ChatContext(compactor=compactor)
    )
    for q in ("one", "two", "three"):
        m.chat(q)
    bodies = [r.body for r in loopback.stats().for_path("/api/chat")]
    # Third chat: history had 4 items -> not yet compacted.
    assert len(bodies) == 3
    m.chat("four")  # history has 6 items: 4 are summarised (one extra call), 2 kept
    bodies = [r.body for r in loopback.stats().for_path("/api/chat")]
    assert len(bodies) == 5
    summary_request, final = bodies[3], bodies[4]
    assert "Summarize the conversation" in summary_request["messages"][0]["content"]
    assert final["messages"][0]["role"] == "system"
    assert final["messages"][0]["content"].startswith("Summary of the earlier conversation: Echo:")
    assert [msg["content"] for msg in final["messages"][1:]] == ["three", "Echo: three", "four"]


def test_instruction_renders_requirements_examples_and_context() -> None:
    from mellea.core.requirement import Requirement

    ins = Instruction(
        "Write about {{topic}}.",
        requirements=["Be short", Requirement("hidden", check_only=True)],
        icl_examples=["an example"],
        grounding_context={"doc": "some facts"},
        user_variables={"topic": "cats"},
    )
    text = ins.format_for_llm()
    assert text.startswith("Write about cats.")
    assert "- Be short" in text and "hidden" not in text
    assert "<example>\nan example\n</example>" in text and "[doc]\nsome facts" in text
