"""MelleaSession end to end against the loopback Ollama server."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

import mellea
from mellea.backends import ModelOption
from mellea.backends.ollama import OllamaModelBackend
from mellea.core.errors import InvalidOptionError
from mellea.stdlib.components import Instruction, Message
from mellea.stdlib.context import ChatContext, SimpleContext
from mellea.stdlib.session import STALE_CONTEXT_WARNING, MelleaSession, get_session
from tests.servers import LoopbackServer, Reply


def session(srv: LoopbackServer, ctx: object = None, **kw: object) -> MelleaSession:
    return MelleaSession(OllamaModelBackend("m", base_url=srv.url, **kw), ctx)  # type: ignore[arg-type]


def chat_bodies(srv: LoopbackServer) -> list[dict]:
    return [r.body for r in srv.stats().for_path("/api/chat")]


def test_sync_twins_return_computed_results(loopback: LoopbackServer) -> None:
    m = session(loopback)
    mot = m.instruct("hello there")
    assert mot.is_computed() and mot.value == "Echo: hello there"
    reply = m.chat("hi")
    assert isinstance(reply, Message) and str(reply) == "Echo: hi" and reply.role == "assistant"
    act = m.act(Instruction("do it"))
    assert act.value == "Echo: do it"


async def test_async_methods_return_uncomputed_thunks_at_once(loopback: LoopbackServer) -> None:
    loopback.configure(ttft=0.3)
    m = session(loopback)
    t0 = time.perf_counter()
    thunks = [await m.ainstruct(f"q{i}") for i in range(32)]
    assert time.perf_counter() - t0 < 0.2
    assert not any(t.is_computed() for t in thunks)
    await asyncio.gather(*(t.avalue() for t in thunks))
    assert time.perf_counter() - t0 < 1.0  # concurrent, not 32 x 0.3 s
    assert [t.value for t in thunks] == [f"Echo: q{i}" for i in range(32)]
    done = await m.ainstruct("x", await_result=True)
    assert done.is_computed()


def test_sync_call_inside_a_running_loop_does_not_deadlock(loopback: LoopbackServer) -> None:
    m = session(loopback)

    async def notebook_cell() -> str:
        return m.instruct("from a notebook").value or ""

    assert asyncio.run(notebook_cell()) == "Echo: from a notebook"


def test_simple_context_sends_no_history(loopback: LoopbackServer) -> None:
    m = session(loopback)
    m.chat("one")
    m.chat("two")
    assert chat_bodies(loopback)[-1]["messages"] == [{"role": "user", "content": "two"}]
    assert len(m.ctx) == 4  # history is kept, just not sent


async def test_overlapping_chat_turns_stay_ordered_and_warn_once(
    loopback: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="mellea")
    loopback.configure(ttft=0.1)
    m = session(loopback, ChatContext())
    r1, r2, r3 = await asyncio.gather(m.achat("A"), m.achat("B"), m.achat("C"))
    assert [str(r) for r in (r1, r2, r3)] == ["Echo: A", "Echo: B", "Echo: C"]
    last = chat_bodies(loopback)[-1]["messages"]
    assert [msg["content"] for msg in last] == ["A", "Echo: A", "B", "Echo: B", "C"]
    assert caplog.text.count(STALE_CONTEXT_WARNING) == 1


async def test_sequential_awaits_on_chat_context_do_not_warn(
    loopback: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="mellea")
    m = session(loopback, ChatContext())
    for q in ("a", "b", "c"):
        await m.achat(q)
    assert STALE_CONTEXT_WARNING not in caplog.text


def test_model_options_merge_and_per_call_wins(loopback: LoopbackServer) -> None:
    m = session(loopback, model_options={ModelOption.SEED: 1, ModelOption.TEMPERATURE: 0.9})
    m.push_model_options({ModelOption.MAX_NEW_TOKENS: 50})
    m.instruct("x", model_options={ModelOption.TEMPERATURE: 0.1, "seed": 2, "top_k": 5})
    options = chat_bodies(loopback)[-1]["options"]
    # Per-call options override session ones; a ModelOption key (SEED) beats its
    # backend-native alias ("seed") wherever each was given, as the docs specify.
    assert options == {"temperature": 0.1, "num_predict": 50, "seed": 1, "top_k": 5}
    m.pop_model_options()
    m.instruct("y")
    assert "num_predict" not in chat_bodies(loopback)[-1]["options"]
    with pytest.raises(IndexError):
        m.pop_model_options()


def test_system_prompt_option_becomes_a_system_message(loopback: LoopbackServer) -> None:
    m = session(loopback, model_options={ModelOption.SYSTEM_PROMPT: "Be brief."})
    m.chat("hi")
    assert chat_bodies(loopback)[-1]["messages"][0] == {"role": "system", "content": "Be brief."}


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({ModelOption.TEMPERATURE: "hot"}, "temperature"),
        ({ModelOption.MAX_NEW_TOKENS: 0}, "max_new_tokens"),
        ({ModelOption.STREAM: "yes"}, "stream"),
        ({"@@@tempurature@@@": 1}, "unknown ModelOption"),
    ],
)
def test_bad_options_fail_before_any_request(
    loopback: LoopbackServer, options: dict, match: str
) -> None:
    m = session(loopback)
    with pytest.raises(InvalidOptionError, match=match):
        m.instruct("x", model_options=options)
    assert loopback.stats().total_requests == 0


def test_requirements_are_never_silently_ignored(loopback: LoopbackServer) -> None:
    m = session(loopback)
    loopback.enqueue(Reply(text="no, it is not", match="Decide whether", times=-1))
    mot = m.instruct("x", requirements=["be short"], strategy=None)  # still checked, once
    assert mot.sampling_result is not None and not mot.sampling_result.success
    assert loopback.stats().total_requests == 2  # the attempt and its judge


def test_empty_instruction_is_rejected(loopback: LoopbackServer) -> None:
    with pytest.raises(InvalidOptionError, match="non-empty"):
        session(loopback).instruct("   ")


def test_user_variables_fill_the_prompt(loopback: LoopbackServer) -> None:
    m = session(loopback)
    assert m.instruct("Summarise: {{text}}", user_variables={"text": "abc"}).value == (
        "Echo: Summarise: abc"
    )
    with pytest.raises(ValueError, match="missing"):
        m.instruct("Summarise: {{txt}}", user_variables={"text": "abc"})


def test_clone_reset_and_last_prompt(loopback: LoopbackServer) -> None:
    m = session(loopback, ChatContext())
    m.chat("first")
    twin = m.clone()
    m.chat("only in m")
    twin.chat("only in twin")
    assert [msg["content"] for msg in chat_bodies(loopback)[-1]["messages"]] == [
        "first", "Echo: first", "only in twin",
    ]  # fmt: skip
    assert m.last_prompt() == [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "Echo: first"},
        {"role": "user", "content": "only in m"},
    ]
    m.reset()
    assert len(m.ctx) == 0 and isinstance(m.ctx, ChatContext)
    assert m.last_prompt() is None


def test_failed_turn_is_not_carried_into_history(loopback: LoopbackServer) -> None:
    m = session(loopback, ChatContext())
    m.chat("good")
    loopback.enqueue(Reply(status=400, error_body="bad request"))
    with pytest.raises(mellea.MelleaError):
        m.chat("bad")
    m.chat("again")
    contents = [msg["content"] for msg in chat_bodies(loopback)[-1]["messages"]]
    assert contents == ["good", "Echo: good", "again"]


def test_with_block_closes_backend_and_sets_current_session(loopback: LoopbackServer) -> None:
    with session(loopback) as m:
        assert get_session() is m
        m.instruct("x")
        assert m.backend._http.is_open  # type: ignore[attr-defined]
    assert not m.backend._http.is_open  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="no active mellea session"):
        get_session()


async def test_async_with_closes_backend(loopback: LoopbackServer) -> None:
    async with session(loopback) as m:
        await (await m.ainstruct("x")).avalue()
    assert not m.backend._http.is_open  # type: ignore[attr-defined]


def test_start_session_picks_ollama_when_reachable(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", loopback.host_port)
    m = mellea.start_session(ctx=ChatContext(), model_options={ModelOption.SEED: 3})
    assert isinstance(m.backend, OllamaModelBackend)
    assert m.backend.model_id == "granite4.1:3b"
    assert isinstance(m.ctx, ChatContext)
    m2 = mellea.start_session("ollama", mellea.model_ids.META_LLAMA_3_2_3B)
    assert m2.backend.model_id == "llama3.2:3b"
    assert isinstance(mellea.start_session("ollama").ctx, SimpleContext)


def test_start_session_rejects_unknown_backends() -> None:
    with pytest.raises(ValueError, match="unknown backend"):
        mellea.start_session("nope")
    with pytest.raises(ValueError, match="not available"):
        mellea.start_session("hf")


def test_constructors_do_no_network_io() -> None:
    # Port 9 (discard) on loopback: nothing listens; a connection attempt would fail.
    t0 = time.perf_counter()
    backend = OllamaModelBackend(base_url="http://127.0.0.1:9")
    MelleaSession(backend)
    assert time.perf_counter() - t0 < 0.05
