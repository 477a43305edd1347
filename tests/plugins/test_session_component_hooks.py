"""Session and component hook points: firing moments, payloads, scoping, blocking."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mellea import start_session
from mellea.core.errors import BackendStatusError, PluginViolationError
from mellea.plugins import HookType, block, hook, modify, register
from mellea.plugins.manager import drain_background_tasks
from mellea.stdlib.sampling import RejectionSamplingStrategy
from tests.plugins._util import recorder, session
from tests.servers import LoopbackServer, Reply

SESSION = (
    HookType.SESSION_PRE_INIT,
    HookType.SESSION_POST_INIT,
    HookType.SESSION_RESET,
    HookType.SESSION_CLEANUP,
)
COMPONENT = (
    HookType.COMPONENT_PRE_EXECUTE,
    HookType.COMPONENT_POST_SUCCESS,
    HookType.COMPONENT_POST_ERROR,
)


def ollama_session(srv: LoopbackServer, **kw: Any) -> Any:
    return start_session("ollama", model_id="m", base_url=srv.url, **kw)


def test_session_lifecycle_hooks(loopback: LoopbackServer) -> None:
    seen, fns = recorder(*SESSION)
    register(fns)
    with ollama_session(loopback, model_options={"temperature": 0.5}) as m:
        m.instruct("hi", strategy=None)
        m.reset()
    names = [p for p, _ in seen]
    assert names == ["session_pre_init", "session_post_init", "session_reset", "session_cleanup"]
    pre, post, reset, cleanup = (p for _, p in seen)
    assert pre.backend_name == "ollama" and pre.model_id == "m"
    assert pre.model_options == {"temperature": 0.5} and pre.context_type == "SimpleContext"
    assert pre.session_id == post.session_id == m.id == cleanup.session_id
    assert post.session is m and post.model_id == "m"
    assert len(reset.previous_context) == 2  # the instruction and its answer
    assert cleanup.interaction_count == 0 and cleanup.exception is None  # reset emptied it


def test_session_pre_init_can_change_the_model_or_refuse(loopback: LoopbackServer) -> None:
    @hook(HookType.SESSION_PRE_INIT)
    async def policy(payload: Any, ctx: Any) -> Any:
        if "gpt-4" in payload.model_id:
            return block("GPT-4 usage not permitted", code="MODEL_POLICY")
        return modify(payload, model_id="other", model_options={"seed": 7})

    register(policy)
    with pytest.raises(PluginViolationError, match="not permitted"):
        start_session("ollama", model_id="gpt-4o", base_url=loopback.url)
    m = ollama_session(loopback)
    assert m.backend.model_id == "other" and m.backend.model_options == {"seed": 7}


def test_cleanup_sees_the_exception_that_ended_the_block(loopback: LoopbackServer) -> None:
    seen, fns = recorder(HookType.SESSION_CLEANUP)
    register(fns)
    with pytest.raises(KeyError), ollama_session(loopback):
        raise KeyError("boom")
    assert isinstance(seen[0][1].exception, KeyError)

    async def main() -> None:
        async with ollama_session(loopback) as m:
            await m.ainstruct("x", strategy=None, await_result=True)

    asyncio.run(main())
    assert len(seen) == 2 and seen[1][1].interaction_count == 1


def test_session_plugins_fire_only_in_their_session_and_leave_with_it(
    loopback: LoopbackServer,
) -> None:
    seen, fns = recorder(HookType.COMPONENT_PRE_EXECUTE)
    with ollama_session(loopback, plugins=fns) as scoped:
        other = ollama_session(loopback)
        scoped.instruct("mine", strategy=None)
        other.instruct("not mine", strategy=None)
        assert [p.session_id for _, p in seen] == [scoped.id]
    scoped.instruct("after the session", strategy=None)
    assert len(seen) == 1


def test_component_hooks_around_a_sync_call(loopback: LoopbackServer) -> None:
    seen, fns = recorder(*COMPONENT)
    register(fns)
    m = session(loopback)
    out = m.instruct("Explain photosynthesis.", requirements=["be short"], strategy=None)
    assert [p for p, _ in seen] == ["component_pre_execute", "component_post_success"]
    pre, post = seen[0][1], seen[1][1]
    assert pre.component_type == "Instruction" and pre.action is post.action
    assert pre.action_id == post.action_id == pre.call_id and pre.session_id == m.id
    assert [str(r.description) for r in pre.requirements] == ["be short"]
    assert pre.context_view == [] and pre.tool_calls_enabled is False
    assert post.result is out and post.result.value == out.value
    assert post.context_after is m.ctx and post.latency_ms >= 0
    assert post.sampling_results is not None and post.sampling_success is True


def test_component_pre_execute_can_change_the_call(loopback: LoopbackServer) -> None:
    @hook(HookType.COMPONENT_PRE_EXECUTE)
    async def route(payload: Any, ctx: Any) -> Any:
        return modify(
            payload, model_options={"temperature": 0.0},
            strategy=RejectionSamplingStrategy(loop_budget=3), requirements=["must fail"],
        )  # fmt: skip

    register(route)
    m = session(loopback)
    result = m.instruct("anything", strategy=None, return_sampling_results=True)
    # the plugin's strategy and requirement ran: three attempts, each judged (the echo
    # server never answers "yes")
    assert len(result.sample_generations) == 3
    assert loopback.stats().requests[0].body["options"]["temperature"] == 0.0


def test_component_block_raises_before_anything_is_sent(loopback: LoopbackServer) -> None:
    errors, fns = recorder(HookType.COMPONENT_POST_ERROR)

    @hook(HookType.COMPONENT_PRE_EXECUTE)
    async def enforce_content_policy(payload: Any, ctx: Any) -> Any:
        if "financial advice" in str(payload.action.description).lower():
            return block("Restricted topic", code="CONTENT_001")
        return None

    register([enforce_content_policy, *fns])
    m = session(loopback)

    async def main() -> None:
        with pytest.raises(PluginViolationError) as info:
            await m.ainstruct("Give me financial advice")
        assert info.value.code == "CONTENT_001"

    asyncio.run(main())
    assert loopback.stats().total_requests == 0
    assert errors[0][1].error_type == "PluginViolationError"
    assert "Restricted topic" in errors[0][1].stack_trace


def test_component_post_error_for_a_failed_generation(loopback: LoopbackServer) -> None:
    seen, fns = recorder(*COMPONENT)
    register(fns)
    loopback.enqueue(Reply(status=400, error_body="no"))
    with pytest.raises(BackendStatusError):
        session(loopback).instruct("x", strategy=None)
    assert [p for p, _ in seen] == ["component_pre_execute", "component_post_error"]
    assert isinstance(seen[1][1].error, BackendStatusError)


def test_lazy_call_reports_success_when_the_thunk_settles(loopback: LoopbackServer) -> None:
    seen, fns = recorder(*COMPONENT)
    register(fns)
    loopback.configure(ttft=0.2)
    m = session(loopback)

    async def main() -> None:
        mot = await m.ainstruct("later", strategy=None)
        assert not mot.is_computed()
        assert [p for p, _ in seen] == ["component_pre_execute"]
        await mot.avalue()
        await drain_background_tasks()

    asyncio.run(main())
    assert [p for p, _ in seen] == ["component_pre_execute", "component_post_success"]
    assert seen[1][1].latency_ms >= 200


def test_functional_api_fires_component_hooks_without_a_session(
    loopback: LoopbackServer,
) -> None:
    from mellea.stdlib.context import ChatContext
    from mellea.stdlib.functional import chat

    seen, fns = recorder(*COMPONENT)
    register(fns)
    m = session(loopback)
    reply, _ = chat("hello", ChatContext(), m.backend)
    assert str(reply) == "Echo: hello"
    assert [p for p, _ in seen] == ["component_pre_execute", "component_post_success"]
    assert seen[0][1].session_id is None and seen[0][1].component_type == "Message"
