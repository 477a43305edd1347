"""Contexts: immutability, views, turns, windows, token budgets and compactors."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from mellea.backends.ollama import OllamaModelBackend
from mellea.core import CBlock, ModelOutputThunk
from mellea.stdlib.components import Instruction, Message
from mellea.stdlib.context import (
    ChatContext,
    Compactor,
    InlineCompactor,
    LLMSummarizeCompactor,
    SimpleContext,
    ThresholdCompactor,
    WindowCompactor,
    pin_nothing,
    pin_system,
    pin_system_and_initial_user,
)
from mellea.stdlib.context import simple as simple_module
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer, Reply


def turns(ctx: ChatContext, n: int, start: int = 0) -> ChatContext:
    for i in range(start, start + n):
        ctx = ctx.add(Message("user", f"q{i}")).add(ModelOutputThunk(f"a{i}"))
    return ctx


def texts(items: list[Any]) -> list[str]:
    return [getattr(v, "content", None) or getattr(v, "value", "") for v in items]


def chat_bodies(srv: LoopbackServer) -> list[dict[str, Any]]:
    return [r.body for r in srv.stats().for_path("/api/chat")]


def test_add_returns_a_new_context_and_leaves_the_old_one() -> None:
    root = ChatContext(window_size=3)
    one = root.add(CBlock("a"))
    two = one.add(CBlock("b"))
    assert len(root) == 0 and len(one) == 1 and len(two) == 2
    assert [c.value for c in two.as_list()] == ["a", "b"]  # type: ignore[union-attr]
    assert two.window_size == 3 and isinstance(two, ChatContext)
    assert two.previous_node is one and one.is_root_node is False and root.is_root_node


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


def test_new_instance_keeps_kind_and_settings() -> None:
    compactor = WindowCompactor(size=2)
    ctx = turns(ChatContext(compactor=compactor, token_context_length_limit=99, model_id="m"), 3)
    fresh = ctx.new_instance()
    assert len(fresh) == 0 and isinstance(fresh, ChatContext)
    assert fresh.compactor is compactor and fresh.token_context_length_limit == 99
    assert fresh.model_id == "m"
    assert turns(ChatContext(window_size=4), 1).new_instance().window_size == 4


def test_bad_settings_are_rejected() -> None:
    with pytest.raises(ValueError):
        ChatContext(window_size=0)
    with pytest.raises(ValueError):
        ChatContext(window_size=2, compactor=WindowCompactor(size=2))
    with pytest.raises(ValueError):
        ChatContext(token_context_length_limit=0)
    with pytest.raises(TypeError):
        ChatContext(compactor="last 3")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        WindowCompactor(size=-1)
    with pytest.raises(ValueError):
        LLMSummarizeCompactor(default_backend=None, prompt_template="no placeholder")  # type: ignore[arg-type]


# ----- SimpleContext: history kept, never sent, and a warning when a program adds to it ------


@pytest.fixture
def fresh_warning() -> Iterator[None]:
    simple_module._warned_user_add = False
    yield
    simple_module._warned_user_add = False


def test_simple_context_keeps_history_but_sends_none(loopback: LoopbackServer) -> None:
    m = MelleaSession(OllamaModelBackend("m", base_url=loopback.url), SimpleContext())
    m.instruct("first")
    m.instruct("second")
    assert len(m.ctx.as_list()) == 4
    assert m.ctx.view_for_generation() == [] and not m.ctx.is_chat_context
    assert ChatContext().is_chat_context
    assert [b["messages"] for b in chat_bodies(loopback)][-1] == [
        {"role": "user", "content": "second"}
    ]


def test_adding_to_a_simple_context_warns_once_but_not_on_session_turns(
    loopback: LoopbackServer, caplog: pytest.LogCaptureFixture, fresh_warning: None
) -> None:
    caplog.set_level(logging.WARNING, logger="mellea")
    m = MelleaSession(OllamaModelBackend("m", base_url=loopback.url), SimpleContext())
    m.instruct("one")
    m.chat("two")
    assert caplog.records == []  # the session's own turns
    ctx = SimpleContext().add(Message("system", "You are terse."))
    ctx = ctx.add(CBlock("more"))
    warnings = [r for r in caplog.records if "SimpleContext" in r.getMessage()]
    assert len(warnings) == 1 and "never sent" in warnings[0].getMessage()
    m = MelleaSession(OllamaModelBackend("m", base_url=loopback.url), ctx)
    m.instruct("three")
    assert chat_bodies(loopback)[-1]["messages"] == [{"role": "user", "content": "three"}]


def test_a_user_defined_backend_recording_its_turn_is_not_warned_about(
    caplog: pytest.LogCaptureFixture, fresh_warning: None
) -> None:
    from mellea.core.backend import Backend

    class Recorder(Backend):  # the shape of a backend written outside mellea
        def record(self, ctx: SimpleContext) -> SimpleContext:
            return ctx.add(CBlock("action")).add(ModelOutputThunk("output"))

    caplog.set_level(logging.WARNING, logger="mellea")
    Recorder.__abstractmethods__ = frozenset()
    Recorder().record(SimpleContext())  # type: ignore[abstract]
    assert caplog.records == []


# ----- ChatContext views: window, compactors, token budget -----------------------------------


def test_window_size_pins_the_system_message_and_counts_the_body() -> None:
    ctx = turns(ChatContext(window_size=2).add(Message("system", "rules")), 3)
    assert texts(ctx.view_for_generation()) == ["rules", "q2", "a2"]
    assert len(ctx.as_list()) == 7  # the stored history is whole


def test_window_compactor_with_pin_nothing_is_a_plain_last_n() -> None:
    ctx = ChatContext(compactor=WindowCompactor(size=2, pin_predicate=pin_nothing))
    ctx = turns(ctx.add(Message("system", "rules")), 3)
    assert texts(ctx.view_for_generation()) == ["q2", "a2"]
    only_prefix = WindowCompactor(size=0).compact(
        turns(ChatContext().add(Message("system", "s")), 2)
    )
    assert texts(only_prefix.as_list()) == ["s"]


def test_compact_returns_a_smaller_copy_and_leaves_the_input() -> None:
    ctx = turns(ChatContext(), 4)
    compacted = WindowCompactor(size=3).compact(ctx)
    assert len(ctx) == 8 and texts(compacted.as_list()) == ["a2", "q3", "a3"]
    assert isinstance(compacted, ChatContext)
    assert WindowCompactor(size=10).compact(ctx) is ctx  # nothing to drop: unchanged
    assert isinstance(WindowCompactor(size=1), Compactor) and isinstance(
        WindowCompactor(size=1), InlineCompactor
    )


def test_pin_predicates() -> None:
    items: list[Any] = [
        Message("system", "a"), Message("system", "b"), Message("user", "goal"),
        ModelOutputThunk("x"), Message("system", "late"),
    ]  # fmt: skip
    assert pin_nothing(items) == 0
    assert pin_system(items) == 2
    assert pin_system_and_initial_user(items) == 3
    assert pin_system_and_initial_user([ModelOutputThunk("x")]) == 0
    ctx = turns(ChatContext().add(Message("user", "goal")), 3)
    kept = WindowCompactor(size=1, pin_predicate=pin_system_and_initial_user).compact(ctx)
    assert texts(kept.as_list()) == ["goal", "a2"]


def test_threshold_compactor_runs_its_inner_only_past_the_threshold() -> None:
    compactor = ThresholdCompactor(WindowCompactor(size=2), threshold=40)
    short = turns(ChatContext(compactor=compactor), 2)  # 4 items, ~5 tokens each
    assert len(short.view_for_generation()) == 4
    long = turns(short, 6, start=2)  # 16 items: past 40 tokens
    assert texts(long.view_for_generation()) == ["q7", "a7"]
    disabled = ThresholdCompactor(WindowCompactor(size=2), threshold=0)
    assert disabled.compact(long) is long


def test_token_limit_keeps_the_newest_items_that_fit_and_the_system_prompt() -> None:
    ctx = ChatContext(token_context_length_limit=40).add(Message("system", "rules"))
    for i in range(6):
        ctx = ctx.add(Message("user", "x" * 40 + str(i)))  # ~14 tokens each
    view = ctx.view_for_generation()
    assert texts(view)[0] == "rules" and [t[-1] for t in texts(view)[1:]] == ["4", "5"]
    assert len(ctx.as_list()) == 7


def test_model_id_bounds_the_view_by_the_model_context_length() -> None:
    class Known:
        context_length = 100  # 75 tokens for history

    ctx = ChatContext(model_id=Known())  # type: ignore[arg-type]
    for i in range(20):
        ctx = ctx.add(Message("user", "y" * 40 + str(i)))
    assert 3 <= len(ctx.view_for_generation()) <= 6
    assert len(ChatContext(model_id="no-such-model").add(CBlock("a")).view_for_generation()) == 1


# ----- LLMSummarizeCompactor on the loopback server -------------------------------------------


def test_summarize_compactor_replaces_old_turns_with_one_summary(loopback: LoopbackServer) -> None:
    backend = OllamaModelBackend("m", base_url=loopback.url)
    compactor = LLMSummarizeCompactor(default_backend=backend, keep_n=3)
    m = MelleaSession(backend, ChatContext(compactor=compactor))
    loopback.enqueue(Reply(text="They said one.", match="Summarize the conversation"))
    m.chat("one")
    m.chat("two")  # history before this turn: 2 items <= keep_n: not compacted
    assert len(chat_bodies(loopback)) == 2
    m.chat("three")  # 4 items: the oldest is summarised (one extra call), 3 kept
    bodies = chat_bodies(loopback)
    assert len(bodies) == 4
    summary_request, sent = bodies[2], bodies[3]
    assert summary_request["messages"][0]["content"].endswith("\n\nuser: one")
    assert sent["messages"][0] == {
        "role": "user",
        "content": "Summary of the earlier conversation: They said one.",
    }
    assert [msg["content"] for msg in sent["messages"][1:]] == [
        "Echo: one", "two", "Echo: two", "three",
    ]  # fmt: skip
    m.chat("four")  # two more items aged out (< keep_n): the summary is reused
    bodies = chat_bodies(loopback)
    assert len(bodies) == 5
    assert bodies[4]["messages"][0] == sent["messages"][0]
    assert len(bodies[4]["messages"]) == 7
    m.chat("five")  # four aged out since: rewritten from the old summary + those items
    bodies = chat_bodies(loopback)
    assert len(bodies) == 7
    assert "(earlier) Summary of the earlier conversation" in bodies[5]["messages"][0]["content"]
    assert bodies[5]["messages"][0]["content"].endswith("assistant: Echo: two\nuser: three")
    assert [msg["content"] for msg in bodies[6]["messages"][1:]] == [
        "Echo: three", "four", "Echo: four", "five",
    ]  # fmt: skip
    assert len(m.ctx.as_list()) == 10  # the stored history is whole


def test_summarize_compactor_failure_leaves_the_history_and_warns(
    loopback: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="mellea")
    backend = OllamaModelBackend("m", base_url=loopback.url)
    ctx = turns(ChatContext(), 3)
    loopback.enqueue(Reply(status=400, error_body="bad request"))
    compactor = LLMSummarizeCompactor(default_backend=backend, keep_n=1)
    assert compactor.compact(ctx) is ctx
    assert any("compaction skipped" in r.getMessage() for r in caplog.records)
    compacted = compactor.compact(ctx)  # called directly: the result is the smaller history
    assert len(compacted) == 2 and texts(compacted.as_list())[1] == "a2"


def test_instruction_renders_requirements_examples_and_context() -> None:
    from mellea.core.requirement import Requirement

    ins = Instruction(
        "Write about {{topic}}.",
        requirements=["Be short", Requirement("hidden", check_only=True)],
        icl_examples=["an example"],
        grounding_context={"doc": "some facts"},
        user_variables={"topic": "cats"},
    )
    text = ins.text()
    assert ins.format_for_llm().args == {"text": text} and text.startswith("Write about cats.")
    assert "- Be short" in text and "hidden" not in text
    assert "<example>\nan example\n</example>" in text and "[doc]\nsome facts" in text
