"""The hook mechanism itself: registration, scopes, modes, priorities, write policies,
results, errors and timeouts — dispatched through the same entry the library uses."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from mellea.core import hooks
from mellea.core.errors import MelleaError
from mellea.core.hooks.generation import GenerationPreCallPayload
from mellea.core.hooks.session import SessionPostInitPayload
from mellea.plugins import (
    HookType,
    MelleaPlugin,
    Plugin,
    PluginConfig,
    PluginMode,
    PluginResult,
    PluginSet,
    PluginViolationError,
    _runner,
    block,
    hook,
    is_internal_tool,
    modify,
    plugin_scope,
    register,
    unregister,
)
from mellea.plugins.manager import (
    deregister_session_plugins,
    drain_background_tasks,
    has_plugins,
    invoke_hook,
)

PRE = HookType.GENERATION_PRE_CALL


def pre_payload(**kw: Any) -> GenerationPreCallPayload:
    return GenerationPreCallPayload(model_options=kw.pop("model_options", {}), **kw)


async def fire(payload: Any = None, hook_type: str = PRE, **ctx: Any) -> Any:
    return await hooks.dispatch(hook_type, payload if payload is not None else pre_payload(), **ctx)


def test_unused_points_are_inactive_and_dispatch_returns_the_payload_as_is() -> None:
    assert hooks.active == frozenset()
    payload = pre_payload()
    assert asyncio.run(fire(payload)) is payload


def test_register_activates_only_its_point_and_unregister_frees_it() -> None:
    @hook(PRE)
    async def noop(payload: Any, ctx: Any) -> None:
        return None

    register(noop)
    assert hooks.active == {"generation_pre_call"} and has_plugins(PRE)
    assert not has_plugins(HookType.TOOL_PRE_INVOKE)
    unregister(noop)
    assert not hooks.active and not has_plugins()


def test_hook_rejects_sync_functions_and_unknown_points() -> None:
    with pytest.raises(TypeError, match="async def"):

        @hook(PRE)
        def sync(payload: Any, ctx: Any) -> None:  # type: ignore[type-var]
            return None

    with pytest.raises(ValueError):
        hook("no_such_point")


def test_register_rejects_what_is_not_a_hook() -> None:
    async def plain(payload: Any, ctx: Any) -> None:
        return None

    with pytest.raises(TypeError, match="cannot register"):
        register(plain)


def test_sequential_hooks_chain_modifications_in_priority_order() -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    @hook(PRE, priority=20)
    async def add_temperature(payload: Any, ctx: Any) -> Any:
        seen.append(("b", dict(payload.model_options)))
        return modify(payload, model_options={**payload.model_options, "temperature": 0.1})

    @hook(PRE, priority=10)
    async def cap_tokens(payload: Any, ctx: Any) -> Any:
        seen.append(("a", dict(payload.model_options)))
        return modify(payload, model_options={**payload.model_options, "max_tokens": 256})

    register([add_temperature, cap_tokens])
    out = asyncio.run(fire(pre_payload(model_options={"max_tokens": 9999})))
    assert seen == [("a", {"max_tokens": 9999}), ("b", {"max_tokens": 256})]
    assert out.model_options == {"max_tokens": 256, "temperature": 0.1}


def test_changes_to_fields_that_are_not_writable_are_discarded() -> None:
    @hook(PRE)
    async def rewrite(payload: Any, ctx: Any) -> Any:
        return modify(payload, model="sneaky", model_options={"seed": 1})

    register(rewrite)
    out = asyncio.run(fire(pre_payload(model="granite")))
    assert out.model == "granite" and out.model_options == {"seed": 1}


def test_observe_only_points_take_no_modification() -> None:
    @hook(HookType.SESSION_POST_INIT)
    async def rename(payload: Any, ctx: Any) -> Any:
        return modify(payload, model_id="other")

    register(rename)
    payload = SessionPostInitPayload(session_id="s", model_id="m")
    out = asyncio.run(fire(payload, HookType.SESSION_POST_INIT))
    assert out.model_id == "m"


def test_a_sequential_block_raises_a_typed_error_naming_the_plugin() -> None:
    later: list[str] = []

    @hook(PRE, priority=1)
    async def budget(payload: Any, ctx: Any) -> Any:
        return block("too many tokens", code="BUDGET", details={"limit": 5})

    @hook(PRE, priority=2)
    async def after(payload: Any, ctx: Any) -> None:
        later.append("ran")

    register([budget, after])
    with pytest.raises(PluginViolationError) as info:
        asyncio.run(fire())
    err = info.value
    assert isinstance(err, MelleaError)
    assert err.hook_type == "generation_pre_call" and err.code == "BUDGET"
    assert err.reason == "too many tokens" and err.details == {"limit": 5}
    assert err.plugin_name.endswith("budget")
    assert "budget" in str(err) and "too many tokens" in str(err)
    assert later == []  # nothing after the block ran


def test_transform_and_audit_cannot_block_and_audit_cannot_modify(
    caplog: pytest.LogCaptureFixture,
) -> None:
    @hook(PRE, mode=PluginMode.TRANSFORM)
    async def transform(payload: Any, ctx: Any) -> Any:
        return block("no")

    @hook(PRE, mode=PluginMode.AUDIT)
    async def audit(payload: Any, ctx: Any) -> Any:
        return modify(payload, model_options={"x": 1})

    @hook(PRE, mode=PluginMode.AUDIT, priority=99)
    async def shadow(payload: Any, ctx: Any) -> Any:
        return block("would block", code="SHADOW")

    register([transform, audit, shadow])
    with caplog.at_level(logging.WARNING, logger="mellea.plugins"):
        out = asyncio.run(fire())
    assert out.model_options == {}
    assert "cannot block" in caplog.text


def test_modes_run_in_the_documented_order() -> None:
    order: list[str] = []

    def recorder(name: str, mode: PluginMode, priority: int) -> Any:
        @hook(PRE, mode=mode, priority=priority)
        async def record(payload: Any, ctx: Any) -> None:
            order.append(name)

        record.__qualname__ = name
        return record

    register(
        [
            recorder("concurrent", PluginMode.CONCURRENT, 1),
            recorder("audit", PluginMode.AUDIT, 1),
            recorder("transform", PluginMode.TRANSFORM, 1),
            recorder("sequential-2", PluginMode.SEQUENTIAL, 2),
            recorder("sequential-1", PluginMode.SEQUENTIAL, 1),
        ]
    )
    asyncio.run(fire())
    assert order == ["sequential-1", "sequential-2", "transform", "audit", "concurrent"]


def test_concurrent_hooks_run_together_and_the_first_block_cancels_the_rest() -> None:
    cancelled: list[bool] = []

    @hook(PRE, mode=PluginMode.CONCURRENT)
    async def slow(payload: Any, ctx: Any) -> None:
        try:
            await asyncio.sleep(2)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    @hook(PRE, mode=PluginMode.CONCURRENT)
    async def guard(payload: Any, ctx: Any) -> Any:
        await asyncio.sleep(0.01)
        return block("rate limited", code="RATE")

    register([slow, guard])
    t0 = time.perf_counter()
    with pytest.raises(PluginViolationError, match="rate limited"):
        asyncio.run(fire())
    assert time.perf_counter() - t0 < 1.5
    assert cancelled == [True]


def test_concurrent_hooks_overlap() -> None:
    @hook(PRE, mode=PluginMode.CONCURRENT)
    async def a(payload: Any, ctx: Any) -> Any:
        await asyncio.sleep(0.2)
        return modify(payload, model_options={"ignored": True})

    @hook(PRE, mode=PluginMode.CONCURRENT)
    async def b(payload: Any, ctx: Any) -> None:
        await asyncio.sleep(0.2)

    register([a, b])
    t0 = time.perf_counter()
    out = asyncio.run(fire())
    assert time.perf_counter() - t0 < 0.38  # together, not one after the other
    assert out.model_options == {}  # concurrent hooks cannot modify


def test_fire_and_forget_never_delays_or_breaks_the_call(caplog: pytest.LogCaptureFixture) -> None:
    done: list[str] = []

    @hook(PRE, mode=PluginMode.FIRE_AND_FORGET)
    async def slow(payload: Any, ctx: Any) -> None:
        await asyncio.sleep(0.3)
        done.append("slow")

    @hook(PRE, mode=PluginMode.FIRE_AND_FORGET)
    async def failing(payload: Any, ctx: Any) -> None:
        raise RuntimeError("exporter down")

    register([slow, failing])

    async def main() -> float:
        t0 = time.perf_counter()
        await fire()
        elapsed = time.perf_counter() - t0
        await drain_background_tasks()
        return elapsed

    with caplog.at_level(logging.WARNING, logger="mellea.plugins"):
        elapsed = asyncio.run(main())
    assert elapsed < 0.1
    assert done == ["slow"]
    assert "exporter down" in caplog.text


def test_a_raising_hook_is_logged_and_the_operation_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    for mode in (PluginMode.SEQUENTIAL, PluginMode.AUDIT, PluginMode.CONCURRENT):
        _runner_reset()

        message = f"bug in {mode}"

        @hook(PRE, mode=mode)
        async def broken(payload: Any, ctx: Any, message: str = message) -> None:
            raise ValueError(message)

        register(broken)
        with caplog.at_level(logging.WARNING, logger="mellea.plugins"):
            out = asyncio.run(fire(pre_payload(model_options={"k": 1})))
        assert out.model_options == {"k": 1}
        assert f"bug in {mode}" in caplog.text
        unregister(broken)


def _runner_reset() -> None:
    from mellea.plugins import _table

    _table.reset()


def test_a_hook_past_its_timeout_is_abandoned(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_runner, "HOOK_TIMEOUT_S", 0.1)

    @hook(PRE)
    async def hangs(payload: Any, ctx: Any) -> None:
        await asyncio.sleep(10)

    register(hangs)
    t0 = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="mellea.plugins"):
        asyncio.run(fire())
    assert time.perf_counter() - t0 < 1
    assert "abandoned" in caplog.text


def test_a_hook_returning_something_else_is_ignored(caplog: pytest.LogCaptureFixture) -> None:
    @hook(PRE)
    async def odd(payload: Any, ctx: Any) -> Any:
        return "yes"

    register(odd)
    with caplog.at_level(logging.WARNING, logger="mellea.plugins"):
        asyncio.run(fire())
    assert "not None or a PluginResult" in caplog.text


def test_plugin_class_shares_state_and_resolves_priorities() -> None:
    order: list[str] = []

    class Counter(Plugin, name="counter", priority=5):
        def __init__(self) -> None:
            self.calls = 0

        @hook(PRE)
        async def first(self, payload: Any, ctx: Any) -> None:
            self.calls += 1
            order.append("class-priority-5")

        @hook(PRE, priority=1)
        async def earliest(self, payload: Any, ctx: Any) -> None:
            self.calls += 1
            order.append("method-priority-1")

    @hook(PRE)  # default 50
    async def standalone(payload: Any, ctx: Any) -> None:
        order.append("default-50")

    counter = Counter()
    register([standalone, counter])
    asyncio.run(fire())
    assert order == ["method-priority-1", "class-priority-5", "default-50"]
    assert counter.calls == 2


def test_pluginset_priority_overrides_everything_inside_nested_sets() -> None:
    order: list[str] = []

    @hook(PRE, priority=1)
    async def a(payload: Any, ctx: Any) -> None:
        order.append("a")

    @hook(PRE, priority=2)
    async def b(payload: Any, ctx: Any) -> None:
        order.append("b")

    @hook(PRE, priority=50)
    async def c(payload: Any, ctx: Any) -> None:
        order.append("c")

    inner = PluginSet("inner", [a])
    outer = PluginSet("outer", [inner, b], priority=90)
    register([outer, c])
    asyncio.run(fire())
    assert order == ["c", "a", "b"]
    assert [p for _, p in outer.flatten()] == [90, 90]
    unregister(outer)
    assert hooks.active == {"generation_pre_call"}  # c stays


def test_blocking_plugin_class_is_named_in_the_error() -> None:
    class Guard(Plugin, name="content-guard"):
        @hook(PRE)
        async def check(self, payload: Any, ctx: Any) -> Any:
            return block("no", code="C1")

    register(Guard())
    with pytest.raises(PluginViolationError) as info:
        asyncio.run(fire())
    assert info.value.plugin_name == "content-guard"


def test_session_scoped_hooks_fire_only_for_their_session() -> None:
    seen: list[str | None] = []

    @hook(PRE)
    async def record(payload: Any, ctx: Any) -> None:
        seen.append(payload.session_id)

    register(record, session_id="s1")
    asyncio.run(fire(pre_payload(session_id="s1")))
    asyncio.run(fire(pre_payload(session_id="s2")))
    asyncio.run(fire(pre_payload()))
    assert seen == ["s1"]
    deregister_session_plugins("s1")
    assert not hooks.active


def test_with_block_scopes_nest_and_clean_up_even_on_error() -> None:
    seen: list[str] = []

    @hook(PRE)
    async def outer_hook(payload: Any, ctx: Any) -> None:
        seen.append("outer")

    class Guard(Plugin, name="guard"):
        @hook(PRE)
        async def check(self, payload: Any, ctx: Any) -> None:
            seen.append("guard")

    with plugin_scope(outer_hook):
        with Guard():
            asyncio.run(fire())
        asyncio.run(fire())
    assert seen == ["outer", "guard", "outer"]
    assert not hooks.active
    with pytest.raises(ZeroDivisionError), plugin_scope([outer_hook]):
        1 / 0  # noqa: B018
    assert not hooks.active


def test_async_with_scopes() -> None:
    seen: list[str] = []

    @hook(PRE)
    async def record(payload: Any, ctx: Any) -> None:
        seen.append("x")

    async def main() -> None:
        async with plugin_scope(record):
            await fire()
        await fire()
        async with PluginSet("set", [record]):
            await fire()

    asyncio.run(main())
    assert seen == ["x", "x"]


def test_the_same_instance_cannot_be_active_in_two_overlapping_scopes() -> None:
    class Guard(Plugin, name="guard"):
        @hook(PRE)
        async def check(self, payload: Any, ctx: Any) -> None:
            return None

    guard = Guard()
    with guard:
        with pytest.raises(RuntimeError, match="already active"), guard:
            pass
        with Guard():  # another instance is fine
            pass
    assert not hooks.active


def test_ctx_carries_backend_facts_and_call_site_fields() -> None:
    got: dict[str, Any] = {}

    class FakeBackend:
        provider = "ollama"
        model_id = "granite4"

    @hook(PRE)
    async def look(payload: Any, ctx: Any) -> None:
        got.update(
            backend_name=ctx.backend_name, model_id=ctx.model_id, hook=ctx.hook_type,
            state=ctx.global_context.state["model_id"], extra=ctx["extra"],
        )  # fmt: skip

    register(look)
    asyncio.run(fire(backend=FakeBackend(), extra=7))
    assert got == {
        "backend_name": "ollama", "model_id": "granite4", "hook": "generation_pre_call",
        "state": "granite4", "extra": 7,
    }  # fmt: skip


def test_payloads_are_frozen() -> None:
    from pydantic import ValidationError

    payload = pre_payload()
    with pytest.raises(ValidationError):
        payload.model_options = {}  # type: ignore[misc]


def test_mellea_plugin_methods_by_config_and_lifecycle() -> None:
    events: list[str] = []

    class Budget(MelleaPlugin):
        def __init__(self) -> None:
            super().__init__(
                PluginConfig(name="budget", hooks=["generation_pre_call"], config={"limit": 3})
            )

        async def initialize(self) -> None:
            events.append("init")

        async def shutdown(self) -> None:
            events.append("shutdown")

        async def generation_pre_call(self, payload: Any, ctx: Any) -> Any:
            limit = self.plugin_config["limit"]
            return modify(payload, model_options={"max_tokens": limit})

    plugin = Budget()
    register(plugin)
    out = asyncio.run(fire())
    unregister(plugin)
    assert out.model_options == {"max_tokens": 3}
    assert events == ["init", "shutdown"]


def test_invoke_hook_compat_returns_result_and_payload() -> None:
    @hook(PRE)
    async def cap(payload: Any, ctx: Any) -> Any:
        return modify(payload, model_options={"max_tokens": 1})

    payload = pre_payload()
    none, same = asyncio.run(invoke_hook(PRE, payload))
    assert none is None and same is payload
    register(cap)
    result, out = asyncio.run(invoke_hook(PRE, payload))
    assert isinstance(result, PluginResult) and out.model_options == {"max_tokens": 1}


def test_block_and_modify_helpers() -> None:
    res = block("r", code="C", details={"a": 1})
    assert res.continue_processing is False
    assert res.violation is not None and res.violation.code == "C"
    assert res.violation.description == "r"
    payload = pre_payload()
    mod = modify(payload, tool_calls=True)
    assert mod.continue_processing and mod.modified_payload.tool_calls is True  # type: ignore[union-attr]
    assert payload.tool_calls is False


def test_internal_tools() -> None:
    assert is_internal_tool("final_answer") and not is_internal_tool("get_weather")
