"""Sampling-loop, validation and tool hook points, and how every payload nests."""

from __future__ import annotations

import asyncio
from typing import Any

from mellea.backends.model_options import ModelOption
from mellea.core.hooks import CallScope
from mellea.core.message import ToolMessage
from mellea.core.requirement import Requirement, ValidationResult
from mellea.plugins import HookType, PluginMode, block, hook, modify, register
from mellea.stdlib.functional import acall_tools, validate
from mellea.stdlib.sampling import RepairTemplateStrategy
from mellea.stdlib.tool_calling import ToolErrorMessage
from tests.plugins._util import recorder, session
from tests.servers import LoopbackServer, Reply

SAMPLING = (
    HookType.SAMPLING_LOOP_START,
    HookType.SAMPLING_ITERATION,
    HookType.SAMPLING_REPAIR,
    HookType.SAMPLING_LOOP_END,
)
VALIDATION = (HookType.VALIDATION_PRE_CHECK, HookType.VALIDATION_POST_CHECK)
TOOL = (HookType.TOOL_PRE_INVOKE, HookType.TOOL_POST_INVOKE)


def is_short(ctx: Any) -> ValidationResult:
    return ValidationResult(len(ctx.last_output().value) < 12, reason="length")


def passes(ctx: Any) -> ValidationResult:
    return ValidationResult(True)


def always_fails(ctx: Any) -> ValidationResult:
    return ValidationResult(False, reason="never good enough")


def test_a_repair_loop_reports_start_iterations_repair_and_end(loopback: LoopbackServer) -> None:
    seen, fns = recorder(*SAMPLING)
    register(fns)
    m = session(loopback)
    reqs = [
        Requirement("short", validation_fn=is_short),
        Requirement("x", validation_fn=always_fails),
    ]
    result = m.instruct(
        "Write a thank you note", requirements=reqs,
        strategy=RepairTemplateStrategy(loop_budget=2), return_sampling_results=True,
    )  # fmt: skip
    assert not result.success
    names = [p for p, _ in seen]
    assert names == [
        "sampling_loop_start", "sampling_iteration", "sampling_repair",
        "sampling_iteration", "sampling_loop_end",
    ]  # fmt: skip
    start, it1, repair, it2, end = (p for _, p in seen)
    assert start.strategy_name == "RepairTemplateStrategy" and start.loop_budget == 2
    assert len(start.requirements) == 2
    assert (it1.iteration, it2.iteration) == (1, 2)
    assert it1.valid_count == 0 and it1.total_count == 2 and not it1.all_validations_passed
    assert it1.sampling_id == start.sampling_id == end.sampling_id == end.call_id
    assert it1.parent_call_id == start.sampling_id  # an attempt nests in its loop
    assert repair.repair_type == "template" and repair.repair_iteration == 1
    assert "never good enough" in repair.repair_action.repair_string
    assert end.success is False and end.iterations_used == 2
    assert end.failure_reason == "no attempt passed every requirement"
    assert end.final_result is result.result and len(end.all_results) == 2
    assert end.usage["total_tokens"] > 0


def test_loop_budget_is_writable(loopback: LoopbackServer) -> None:
    @hook(HookType.SAMPLING_LOOP_START)
    async def more_tries(payload: Any, ctx: Any) -> Any:
        return modify(payload, loop_budget=4)

    register(more_tries)
    m = session(loopback)
    strategy = RepairTemplateStrategy(loop_budget=1)
    reqs = [Requirement("x", validation_fn=always_fails)]
    result = m.instruct("x", requirements=reqs, strategy=strategy, return_sampling_results=True)
    assert len(result.sample_generations) == 4
    assert strategy.loop_budget == 1  # the strategy object is configuration: not changed


def test_loop_end_fires_before_the_lazy_thunk_resolves(loopback: LoopbackServer) -> None:
    order: list[str] = []

    @hook(HookType.SAMPLING_LOOP_END)
    async def slow(payload: Any, ctx: Any) -> None:
        await asyncio.sleep(0.1)
        order.append("loop end")

    register(slow)
    m = session(loopback)

    async def main() -> None:
        mot = await m.ainstruct("x", requirements=[Requirement("s", validation_fn=passes)])
        await mot.avalue()
        order.append("reader")

    asyncio.run(main())
    assert order == ["loop end", "reader"]


def test_validation_hooks_in_the_loop_and_in_validate(loopback: LoopbackServer) -> None:
    seen, fns = recorder(*VALIDATION)
    register(fns)
    m = session(loopback)
    m.instruct("hi", requirements=[Requirement("fine", validation_fn=passes)])
    pre, post = seen[0][1], seen[1][1]
    assert pre.target.value.startswith("Echo: hi") and len(pre.requirements) == 1
    assert post.all_validations_passed and post.passed_count == 1 and post.failed_count == 0
    assert pre.validation_id == post.validation_id
    assert pre.parent is not None and pre.parent.kind == "attempt"
    seen.clear()
    results = validate([Requirement("fine", validation_fn=passes)], m.ctx, m.backend)
    assert [bool(r) for r in results] == [True]
    assert [p for p, _ in seen] == ["validation_pre_check", "validation_post_check"]


def test_validation_hooks_can_add_requirements_and_override_results(
    loopback: LoopbackServer,
) -> None:
    @hook(HookType.VALIDATION_PRE_CHECK)
    async def add_check(payload: Any, ctx: Any) -> Any:
        extra = Requirement("added", validation_fn=always_fails)
        return modify(payload, requirements=[*payload.requirements, extra])

    register(add_check)
    m = session(loopback)
    m.instruct("hi", strategy=None)
    results = validate([Requirement("fine", validation_fn=passes)], m.ctx, m.backend)
    assert [bool(r) for r in results] == [True, False]

    @hook(HookType.VALIDATION_POST_CHECK)
    async def lenient(payload: Any, ctx: Any) -> Any:
        return modify(payload, all_validations_passed=True)

    register(lenient)
    results = validate([Requirement("fine", validation_fn=passes)], m.ctx, m.backend)
    assert [bool(r) for r in results] == [True, True]
    assert "a plugin marked the validation passed" in (results[1].reason or "")


def get_weather(location: str) -> str:
    """Weather for a city.

    Args:
        location: the city
    """
    return f"sunny in {location}"


def tool_reply(args: dict[str, Any]) -> Reply:
    return Reply(text="", tool_calls=[{"name": "get_weather", "arguments": args}])


def test_tool_hooks_around_a_call(loopback: LoopbackServer) -> None:
    seen, fns = recorder(*TOOL)
    register(fns)
    loopback.enqueue(tool_reply({"location": "Boston"}))
    m = session(loopback)
    out = m.instruct("weather?", strategy=None, tool_calls=True,
                     model_options={ModelOption.TOOLS: [get_weather]})  # fmt: skip
    [message] = asyncio.run(acall_tools(out, m.backend))
    assert message.content == "sunny in Boston"
    pre, post = seen[0][1], seen[1][1]
    assert pre.model_tool_call.name == "get_weather" and pre.model_tool_call.args == {
        "location": "Boston"
    }
    assert pre.is_control_flow is False and pre.tool_invocation_id == post.tool_invocation_id
    assert post.tool_output == "sunny in Boston" and post.success and post.error is None
    assert post.tool_message is message and post.execution_time_ms >= 0


def test_tool_hooks_sanitize_args_block_and_rewrite_output(loopback: LoopbackServer) -> None:
    import dataclasses

    @hook(HookType.TOOL_PRE_INVOKE, mode=PluginMode.SEQUENTIAL, priority=5)
    async def allowlist(payload: Any, ctx: Any) -> Any:
        if payload.model_tool_call.args.get("location") == "Area 51":
            return block("Tool 'get_weather' not permitted there", code="TOOL_NOT_ALLOWED")
        return None

    @hook(HookType.TOOL_PRE_INVOKE, priority=15)
    async def sanitize(payload: Any, ctx: Any) -> Any:
        mtc = payload.model_tool_call
        fixed = dataclasses.replace(mtc, args={"location": mtc.args["location"].strip().title()})
        return modify(payload, model_tool_call=fixed)

    @hook(HookType.TOOL_POST_INVOKE)
    async def shout(payload: Any, ctx: Any) -> Any:
        return modify(payload, tool_output=str(payload.tool_output).upper())

    register([allowlist, sanitize, shout])
    m = session(loopback)
    loopback.enqueue(tool_reply({"location": "  boston "}))
    out = m.instruct(
        "w", strategy=None, tool_calls=True, model_options={ModelOption.TOOLS: [get_weather]}
    )
    [message] = asyncio.run(acall_tools(out, m.backend))
    assert message.content == "SUNNY IN BOSTON" and isinstance(message, ToolMessage)
    loopback.enqueue(tool_reply({"location": "Area 51"}))
    out = m.instruct(
        "w", strategy=None, tool_calls=True, model_options={ModelOption.TOOLS: [get_weather]}
    )
    [refused] = asyncio.run(acall_tools(out, m.backend))
    assert isinstance(refused, ToolErrorMessage) and "not permitted" in refused.content
    assert refused.error.code == "TOOL_NOT_ALLOWED"  # type: ignore[attr-defined]


def test_every_payload_nests_under_the_call_that_started_it(loopback: LoopbackServer) -> None:
    """Two concurrent sampled calls: each generation, validation and attempt hangs off its
    own call's chain, never a sibling's (what a tracer needs to build span trees)."""
    points = (
        HookType.COMPONENT_PRE_EXECUTE, HookType.SAMPLING_LOOP_START,
        HookType.GENERATION_PRE_CALL, HookType.VALIDATION_PRE_CHECK,
    )  # fmt: skip
    seen, fns = recorder(*points)
    register(fns)
    loopback.configure(ttft=0.05)
    m = session(loopback)
    judged = Requirement("Is it short?")  # asks the model: a judge request inside the check

    async def main() -> None:
        a = await m.ainstruct("first", requirements=[judged])
        b = await m.ainstruct("second", requirements=[judged])
        await asyncio.gather(a.avalue(), b.avalue())

    asyncio.run(main())
    roots = {
        p.action_id: str(p.action.description) for h, p in seen if h == "component_pre_execute"
    }
    assert sorted(roots.values()) == ["first", "second"]

    def root_of(scope: CallScope | None) -> str:
        assert scope is not None
        return roots[scope.chain()[1].id]  # [session, component, ...]

    for hook_type, payload in seen:
        if hook_type == "component_pre_execute":
            assert payload.parent.kind == "session" and payload.parent.id == m.id
            continue
        root = root_of(payload.parent)
        assert payload.session_id == m.id and payload.request_id in roots
        assert roots[payload.request_id] == root
        if hook_type == "generation_pre_call":
            # an attempt's generation (its prompt is the instruction) or a judge's request
            # inside a validation of that same call
            kinds = [s.kind for s in payload.parent.chain()]
            assert kinds[:3] == ["session", "component", "sampling"]
            assert kinds[3] == "attempt" and kinds[-1] in ("attempt", "validation")
            if kinds[-1] == "attempt":
                assert str(payload.action.description) == root
