"""The core data model under the reference's names: computed thunks, generate logs,
metadata, tool calls, contexts, backend walks."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import pytest

from mellea.backends import ModelOption
from mellea.backends.ollama import OllamaModelBackend
from mellea.core import (
    AbstractMelleaTool,
    Backend,
    CBlock,
    Component,
    ComputedModelOutputThunk,
    Context,
    ContextTurn,
    ContextTypeMismatchError,
    GenerateLog,
    GenerationMetadata,
    ModelOutputThunk,
    ModelToolCall,
    TemplateRepresentation,
    blockify,
    generate_walk,
)
from mellea.core._validation import TOOLS_OPTION
from mellea.core.errors import GenerationCancelled
from mellea.core.message import Message
from mellea.helpers.portal import get_portal
from mellea.stdlib.context import ChatContext, SimpleContext
from tests.servers import LoopbackServer, Reply


def slow_thunk(pieces: list[str], delay: float = 0.05) -> ModelOutputThunk[str]:
    mot: ModelOutputThunk[str] = ModelOutputThunk()

    async def producer() -> None:
        try:
            for p in pieces:
                await asyncio.sleep(delay)
                mot._feed(p)
            mot._resolve()
        except asyncio.CancelledError:
            mot._fail(GenerationCancelled("cancelled"), cancelled=True)
            raise

    mot._attach(get_portal().spawn(producer()))
    return mot


# ----- ComputedModelOutputThunk -------------------------------------------------------


async def test_computed_thunk_is_the_same_object_narrowed() -> None:
    mot = slow_thunk(["a", "b"], delay=0.01)
    await mot.avalue()
    computed = ComputedModelOutputThunk(mot)
    assert computed is mot and type(mot) is ComputedModelOutputThunk
    assert computed.value == "ab" and computed.is_computed() is True
    assert await computed.avalue() == "ab"
    assert await computed.astream() == "ab"  # spec: a computed thunk streams its value
    assert ComputedModelOutputThunk(computed) is computed


async def test_computed_thunk_refuses_unfinished_or_failed_thunks() -> None:
    pending = slow_thunk(["x"] * 20)
    with pytest.raises(ValueError, match="computed"):
        ComputedModelOutputThunk(pending)
    assert type(pending) is ModelOutputThunk  # left untouched
    await pending.acancel()
    with pytest.raises(ValueError):
        ComputedModelOutputThunk(pending)  # cancelled is not computed
    with pytest.raises(TypeError):
        ComputedModelOutputThunk(CBlock("text"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ComputedModelOutputThunk()


def test_computed_thunk_value_stays_a_str() -> None:
    computed = ComputedModelOutputThunk(ModelOutputThunk("v"))
    computed.value = "replaced"
    assert computed.value == "replaced"
    with pytest.raises(TypeError):
        computed.value = None  # type: ignore[assignment]


# ----- cancellation names -------------------------------------------------------------


async def test_cancel_generation_keeps_partial_text_and_records_the_reason() -> None:
    mot = slow_thunk(["one ", "two ", "three "] * 10, delay=0.02)
    await asyncio.sleep(0.1)
    reason = RuntimeError("streaming requirement failed")
    await mot.cancel_generation(reason)
    assert mot.cancelled and mot.is_cancelled() and not mot.is_computed()
    assert isinstance(mot.error, GenerationCancelled) and mot.error.__cause__ is reason
    assert mot.partial_value.startswith("one ")
    await mot.cancel_generation()  # no-op once settled


async def test_aclose_cancels_an_abandoned_iteration_and_is_idempotent() -> None:
    mot = slow_thunk(["w "] * 50, delay=0.01)
    async for _ in mot:
        break
    await mot.aclose()
    assert mot.cancelled
    await mot.aclose()
    done = ModelOutputThunk("finished")
    await done.aclose()
    assert done.value == "finished" and not done.cancelled


# ----- GenerateLog --------------------------------------------------------------------


def test_generate_log_is_filled_for_every_generation(loopback: LoopbackServer) -> None:
    backend = OllamaModelBackend("m", base_url=loopback.url)
    options = {ModelOption.TEMPERATURE: 0.5, "top_k": 7}

    async def run() -> tuple[ModelOutputThunk[Any], Message]:
        action = Message("user", "hello there")
        mot, _ = await backend.generate_from_context(action, SimpleContext(), model_options=options)
        await mot.avalue()
        return mot, action

    before = datetime.datetime.now()
    mot, action = asyncio.run(run())
    log = mot.generate_log
    assert isinstance(log, GenerateLog)
    assert log is mot.generate_log  # the same object: marks such as is_final_result stick
    assert log.date is not None and log.date >= before
    assert isinstance(log.prompt, list) and log.prompt[-1]["content"] == "hello there"
    assert log.backend is not None and log.backend.endswith("::m")
    assert log.model_options is not None and log.model_options["top_k"] == 7
    assert log.action is action and log.result is mot
    assert log.model_output  # what the server answered
    assert log.is_final_result is False


async def test_a_literal_thunk_has_no_generate_log() -> None:
    assert ModelOutputThunk("literal").generate_log is None


def test_failed_generation_still_has_a_log(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(status=400, error_body="bad request"))
    backend = OllamaModelBackend("m", base_url=loopback.url)

    async def run() -> ModelOutputThunk[Any]:
        mot, _ = await backend.generate_from_context(CBlock("q"), SimpleContext())
        with pytest.raises(Exception):  # noqa: B017 - the backend's typed error
            await mot.avalue()
        return mot

    mot = asyncio.run(run())
    assert mot.generate_log is not None and mot.generate_log.prompt is not None


# ----- metadata, tool calls, representation -------------------------------------------


def test_generation_metadata_fields_in_reference_order() -> None:
    meta = GenerationMetadata({"total_tokens": 3}, "m", "ollama", 1.5, True, "m-served")
    assert meta.response_model == "m-served" and meta.streaming is True
    assert meta.logits is None and meta.raw_logits is None and meta.attempts == 1


class Adder(AbstractMelleaTool[..., int]):
    name = "add"

    def run(self, a: int, b: int) -> int:
        return a + b

    @property
    def as_json_tool(self) -> dict[str, Any]:
        return {"type": "function", "function": {"name": "add"}}


def test_model_tool_call_runs_tools_and_plain_callables() -> None:
    call = ModelToolCall("add", Adder(), {"a": 2, "b": 3}, tool_call_id="call_7")
    assert call.call_func() == 5
    assert call.tool_call_id == "call_7" == call.call_id
    plain = ModelToolCall("mul", lambda a, b: a * b, {"a": 2, "b": 3})
    assert plain.call_func() == 6 and plain.tool_call_id is None
    with pytest.raises(LookupError):
        ModelToolCall("ghost", None, {}).call_func()


def test_template_representation_chat_fields() -> None:
    rep = TemplateRepresentation(
        obj=None, args={"x": "1"}, role="tool", tool_call_id="c1", tool_name="add",
        provider_fields={"openai": {"name": "add"}},
    )  # fmt: skip
    assert (rep.role, rep.tool_call_id, rep.tool_name) == ("tool", "c1", "add")
    assert rep.audio is None and rep.thinking is None and rep.tool_calls is None


def test_blockify() -> None:
    block = blockify("text")
    assert isinstance(block, CBlock) and block.value == "text"
    msg = Message("user", "hi")
    assert blockify(msg) is msg and blockify(block) is block
    with pytest.raises(TypeError):
        blockify(3)  # type: ignore[arg-type]


# ----- contexts -----------------------------------------------------------------------


class TaggedContext(Context):
    """A user context with a required constructor argument, adding via `from_previous`."""

    def __init__(self, tag: str) -> None:
        super().__init__()
        self.tag = tag

    def add(self, c: Component[Any] | CBlock) -> TaggedContext:
        return TaggedContext.from_previous(self, c)

    def view_for_generation(self) -> list[Component[Any] | CBlock] | None:
        return self.as_list()


def test_user_context_with_required_init_args_keeps_its_settings() -> None:
    ctx = TaggedContext("t1").add(CBlock("a")).add(CBlock("b"))
    assert isinstance(ctx, TaggedContext) and ctx.tag == "t1"
    assert [str(x) for x in ctx.as_list()] == ["a", "b"]
    assert [str(x) for x in ctx.as_list(last_n_components=1)] == ["b"]
    fresh = ctx.new_instance()
    assert fresh.tag == "t1" and len(fresh) == 0 and fresh.is_root_node
    assert ctx.actions_for_available_tools() == ctx.as_list()


def test_context_basics_under_reference_names() -> None:
    ctx = ChatContext(window_size=3).add(c=Message("user", "q")).add(ModelOutputThunk("a"))
    assert ctx.is_chat_context
    turn = ctx.last_turn()
    assert isinstance(turn, ContextTurn) and turn.output is not None
    assert turn.model_input is turn.input and str(turn.model_input) == "q"
    with pytest.raises(TypeError):
        SimpleContext.from_previous(SimpleContext(), None)  # type: ignore[arg-type]


def test_a_hand_added_assistant_message_is_a_turn_output() -> None:
    ctx = SimpleContext().add(Message("user", "q")).add(Message("assistant", "a"))
    turn = ctx.last_turn()
    assert turn is not None and str(turn.output) == "a" and str(turn.model_input) == "q"


def test_context_type_mismatch_error() -> None:
    err = ContextTypeMismatchError(SimpleContext, ChatContext)
    assert isinstance(err, TypeError)
    assert "SimpleContext" in str(err) and "ChatContext" in str(err)
    assert "allow_context_type_change" in str(err)


# ----- backend protocol ---------------------------------------------------------------


class Pair(Component[str]):
    def __init__(self, *parts: Component[Any] | CBlock) -> None:
        self._parts = list(parts)

    def parts(self) -> list[Component[Any] | CBlock]:
        return self._parts

    def format_for_llm(self) -> str:
        return " ".join(str(p) for p in self._parts)


async def test_generate_walk_finds_uncomputed_inputs_and_do_generate_walks_waits() -> None:
    x, y = slow_thunk(["1"]), slow_thunk(["2"])
    done = ModelOutputThunk("3")
    action = Pair(x, Pair(CBlock("+"), y), done)
    assert generate_walk(action) == [x, y]
    assert generate_walk(done) == [] and generate_walk(CBlock("c")) == []
    with pytest.raises(TypeError):
        generate_walk(Pair("not a block"))  # type: ignore[arg-type]
    backend = OllamaModelBackend("m", base_url="http://127.0.0.1:9")
    await backend.do_generate_walk(action)
    assert x.is_computed() and y.is_computed()


class NoRawBackend(Backend):
    def __init__(self) -> None:
        self.model_id = "none"
        self.model_options: dict[str, Any] = {}

    async def generate_from_context(self, action, ctx, *, format=None, model_options=None,
                                    tool_calls=False):  # type: ignore[no-untyped-def]  # fmt: skip
        raise AssertionError("not called")


async def test_generate_from_raw_default_says_it_is_unsupported() -> None:
    with pytest.raises(NotImplementedError, match="NoRawBackend"):
        await NoRawBackend().generate_from_raw([CBlock("x")], SimpleContext())


def test_judge_strips_the_tools_option_by_its_key() -> None:
    assert ModelOption.TOOLS == TOOLS_OPTION
