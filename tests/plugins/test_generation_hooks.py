"""generation_pre_call / generation_post_call / generation_error, on real backends
talking to the loopback server (sync, async, streaming, both wire protocols)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mellea.backends.model_options import ModelOption
from mellea.core.errors import BackendStatusError, GenerationCancelled, PluginViolationError
from mellea.plugins import HookType, block, hook, modify, register
from mellea.plugins.manager import drain_background_tasks
from tests.plugins._util import recorder, session
from tests.servers import LoopbackServer, Reply

GEN = (HookType.GENERATION_PRE_CALL, HookType.GENERATION_POST_CALL, HookType.GENERATION_ERROR)


@pytest.mark.parametrize("kind", ["ollama", "openai"])
def test_pre_and_post_call_fire_around_one_request(loopback: LoopbackServer, kind: str) -> None:
    seen, fns = recorder(*GEN)
    register(fns)
    m = session(loopback, kind)
    out = m.instruct("Say hello", strategy=None)
    assert [p for p, _ in seen] == ["generation_pre_call", "generation_post_call"]
    pre, post = seen[0][1], seen[1][1]
    assert pre.model == "m" and pre.provider == kind and pre.tool_calls is False
    assert "Say hello" in str(pre.action)
    assert pre.generation_id and pre.generation_id == post.generation_id == post.call_id
    assert post.model_output is out and post.model_output.value == out.value
    assert post.latency_ms > 0
    assert post.model_output.generation.usage["completion_tokens"] > 0
    assert post.model_output.generation.finish_reasons == ["stop"]
    assert isinstance(post.prompt, list) and "Say hello" in str(post.prompt)


def test_post_call_runs_before_the_reader_wakes(loopback: LoopbackServer) -> None:
    order: list[str] = []

    @hook(HookType.GENERATION_POST_CALL)
    async def slow_observer(payload: Any, ctx: Any) -> None:
        await asyncio.sleep(0.2)
        order.append(f"hook saw {payload.model_output.value!r}")

    register(slow_observer)
    m = session(loopback)

    async def main() -> None:
        mot = await m.ainstruct("ping", strategy=None)
        order.append(f"reader got {await mot.avalue()!r}")

    asyncio.run(main())
    assert order == ["hook saw 'Echo: ping'", "reader got 'Echo: ping'"]


def test_pre_call_modification_changes_what_is_sent(loopback: LoopbackServer) -> None:
    @hook(HookType.GENERATION_PRE_CALL)
    async def cap_tokens(payload: Any, ctx: Any) -> Any:
        return modify(
            payload, model_options={**payload.model_options, ModelOption.MAX_NEW_TOKENS: 2}
        )

    register(cap_tokens)
    loopback.configure(tokens=10)
    out = session(loopback).instruct("count", strategy=None)
    assert out.value == "tok0 tok1 "
    assert loopback.stats().requests[-1].body["options"]["num_predict"] == 2


def test_a_pre_call_block_sends_nothing_and_names_the_plugin(loopback: LoopbackServer) -> None:
    seen, fns = recorder(HookType.GENERATION_ERROR)

    @hook(HookType.GENERATION_PRE_CALL)
    async def budget(payload: Any, ctx: Any) -> Any:
        return block("over budget", code="TOKEN_BUDGET_001")

    register([budget, *fns])
    before = loopback.stats().total_requests
    m = session(loopback)
    with pytest.raises(PluginViolationError) as info:
        m.instruct("anything", strategy=None)
    assert info.value.plugin_name.endswith("budget") and info.value.code == "TOKEN_BUDGET_001"
    assert loopback.stats().total_requests == before  # nothing was sent
    assert [p for p, _ in seen] == ["generation_error"]
    assert seen[0][1].exception is info.value


def test_error_hook_sees_the_typed_error_and_partial_text(loopback: LoopbackServer) -> None:
    seen, fns = recorder(*GEN)
    register(fns)
    loopback.enqueue(Reply(status=400, error_body="bad request"))
    m = session(loopback)
    with pytest.raises(BackendStatusError):
        m.instruct("x", strategy=None)
    assert [p for p, _ in seen] == ["generation_pre_call", "generation_error"]
    err = seen[1][1]
    assert isinstance(err.exception, BackendStatusError)
    assert err.generation_id == seen[0][1].generation_id


def test_streaming_post_call_has_chunk_timing(loopback: LoopbackServer) -> None:
    seen, fns = recorder(HookType.GENERATION_POST_CALL)
    register(fns)
    loopback.configure(tokens=5, token_delay=0.02)
    m = session(loopback)

    async def main() -> str:
        mot = await m.ainstruct("s", strategy=None, model_options={ModelOption.STREAM: True})
        return "".join([chunk async for chunk in mot])

    text = asyncio.run(main())
    assert text == "tok0 tok1 tok2 tok3 tok4"
    post = seen[0][1]
    times = post.chunk_times_ms
    assert len(times) == 5 and times == sorted(times)
    assert times[-1] - times[0] >= 4 * 15  # the server's 20 ms pacing shows
    assert post.model_output.generation.ttfb_ms is not None


def test_a_post_call_block_fails_the_thunk_keeping_the_text(loopback: LoopbackServer) -> None:
    @hook(HookType.GENERATION_POST_CALL)
    async def output_guard(payload: Any, ctx: Any) -> Any:
        if "secret" in payload.model_output.value:
            return block("leaks a secret", code="LEAK")
        return None

    register(output_guard)
    m = session(loopback)
    with pytest.raises(PluginViolationError, match="leaks a secret") as info:
        m.instruct("the secret", strategy=None)
    assert info.value.partial_output == "Echo: the secret"
    assert m.instruct("fine", strategy=None).value == "Echo: fine"


def test_cancelling_reports_a_generation_error(loopback: LoopbackServer) -> None:
    seen, fns = recorder(HookType.GENERATION_ERROR)
    register(fns)
    loopback.configure(tokens=50, token_delay=0.05)
    m = session(loopback)

    async def main() -> None:
        mot = await m.ainstruct("c", strategy=None, model_options={ModelOption.STREAM: True})
        await mot.astream()
        await mot.acancel()
        with pytest.raises(GenerationCancelled):
            await mot.avalue()
        await drain_background_tasks()

    asyncio.run(main())
    assert isinstance(seen[0][1].exception, GenerationCancelled)


def test_concurrent_thunks_keep_their_own_generation_ids(loopback: LoopbackServer) -> None:
    seen, fns = recorder(HookType.GENERATION_PRE_CALL, HookType.GENERATION_POST_CALL)
    register(fns)
    loopback.configure(ttft=0.05)
    m = session(loopback)

    async def main() -> list[str]:
        mots = [await m.ainstruct(f"q{i}", strategy=None) for i in range(8)]
        return list(await asyncio.gather(*(t.avalue() for t in mots)))

    values = asyncio.run(main())
    assert values == [f"Echo: q{i}" for i in range(8)]
    pre = {
        p.generation_id: str(p.action.description) for h, p in seen if h == "generation_pre_call"
    }
    post = {p.generation_id: p.model_output.value for h, p in seen if h == "generation_post_call"}
    assert len(pre) == len(post) == 8
    for gid, action in pre.items():
        assert post[gid] == "Echo: " + action


def test_batch_hooks_around_generate_from_raw(loopback: LoopbackServer) -> None:
    from mellea.core.base import CBlock
    from mellea.plugins.manager import drain_background_tasks
    from mellea.stdlib.context import SimpleContext

    seen, fns = recorder(
        HookType.GENERATION_BATCH_PRE_CALL, HookType.GENERATION_BATCH_POST_CALL,
        HookType.GENERATION_BATCH_ERROR,
    )  # fmt: skip
    register(fns)
    backend = session(loopback).backend

    async def main() -> list[str]:
        mots = await backend.generate_from_raw([CBlock("a b"), CBlock("c")], SimpleContext())
        values = [await m.avalue() for m in mots]
        await drain_background_tasks()
        return values

    values = asyncio.run(main())
    assert len(values) == 2
    assert [p for p, _ in seen] == ["generation_batch_pre_call", "generation_batch_post_call"]
    pre, post = seen[0][1], seen[1][1]
    assert pre.num_actions == 2 and pre.generation_id == post.generation_id
    assert [m.value for m in post.model_outputs] == values
    assert post.usage is not None and post.usage["completion_tokens"] > 0


def test_a_blocked_batch_raises_and_reports(loopback: LoopbackServer) -> None:
    from mellea.core.base import CBlock
    from mellea.stdlib.context import SimpleContext

    seen, fns = recorder(HookType.GENERATION_BATCH_ERROR)

    @hook(HookType.GENERATION_BATCH_PRE_CALL)
    async def no_batches(payload: Any, ctx: Any) -> Any:
        return block("no raw completions here")

    register([no_batches, *fns])
    backend = session(loopback).backend
    with pytest.raises(PluginViolationError, match="no raw completions"):
        asyncio.run(backend.generate_from_raw([CBlock("a")], SimpleContext()))
    assert loopback.stats().total_requests == 0
    assert isinstance(seen[0][1].exception, PluginViolationError)
