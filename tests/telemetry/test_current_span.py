"""mellea's span is the current OpenTelemetry span where user code runs for it, and its
requests carry it: an application's own spans opened inside a tool (sync ones run in a
worker thread) or a validation function nest under `execute_tool` / `validation` — each
under its own, also among concurrent calls — and every HTTP request sends the W3C
`traceparent` of its `chat` / `text_completion` span, read back by the loopback server."""

from __future__ import annotations

import asyncio
import re
import threading
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan

from mellea import start_session
from mellea.backends import ModelOption
from mellea.backends.litellm import LiteLLMBackend
from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.openai import OpenAIBackend
from mellea.core import hooks
from mellea.core.base import CBlock
from mellea.core.requirement import Requirement, ValidationResult
from mellea.plugins.manager import drain_background_tasks
from mellea.stdlib.context import SimpleContext
from mellea.stdlib.functional import acall_tools, call_tools
from mellea.stdlib.sampling import RejectionSamplingStrategy
from mellea.stdlib.session import MelleaSession
from mellea.telemetry import TelemetryConfig, shutdown
from tests.servers import LoopbackServer, Reply
from tests.telemetry.conftest import Otel, start_otel

TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}")


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def assert_child_of(otel: Otel, span: ReadableSpan, parent: ReadableSpan) -> None:
    assert span.parent is not None, f"{span.name} is a root span"
    assert span.context.trace_id == parent.context.trace_id
    assert otel.parent_of(span) is parent, (span.name, otel.tree())


def no_mellea_span_here() -> bool:
    return not trace.get_current_span().get_span_context().is_valid


# ----- user spans in tools ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_span_opened_in_a_tool_nests_under_execute_tool(
    otel: Otel, loopback: LoopbackServer, kind: str
) -> None:
    tracer = otel.tracer("my-app")
    seen: dict[str, Any] = {}

    def work(location: str) -> str:
        with tracer.start_as_current_span("geocode") as span:
            span.set_attribute("location", location)
            seen["thread"] = threading.current_thread()
        return f"sunny in {location}"

    def get_weather(location: str) -> str:
        """The weather at a location."""
        return work(location)

    async def aget_weather(location: str) -> str:
        """The weather at a location."""
        return work(location)

    tool = get_weather if kind == "sync" else aget_weather
    name = tool.__name__
    loopback.enqueue(Reply(text="Looking.", tool_calls=[
        {"name": name, "arguments": {"location": "Paris"}}
    ]))  # fmt: skip
    with start_session("ollama", model_id="granite4:micro", base_url=loopback.url) as m:
        result = m.instruct("Weather?", model_options={ModelOption.TOOLS: [tool]}, tool_calls=True)
        (message,) = call_tools(result, m.backend)
    assert message.content == "sunny in Paris"
    assert no_mellea_span_here()  # nothing stays attached in the caller's context
    if kind == "sync":  # it ran in a worker thread, not on the caller's or the I/O thread
        assert seen["thread"] is not threading.main_thread()
    assert_child_of(otel, otel.span("geocode"), otel.span(f"execute_tool {name}"))


async def test_concurrent_tool_calls_each_parent_their_own_spans(
    loopback: LoopbackServer,
) -> None:
    """Four sync tools meet at a barrier (all running at once, in four worker threads) and
    four async ones interleave on one loop; two `acall_tools` run side by side. Every
    application span sits under the `execute_tool` span of its own call."""
    otel = start_otel(TelemetryConfig(content=True))  # tool arguments on the spans
    try:
        tracer = otel.tracer("my-app")
        barrier = threading.Barrier(4, timeout=10)

        def lookup(key: str) -> str:
            """Looks a key up."""
            with tracer.start_as_current_span("user.lookup") as span:
                span.set_attribute("key", key)
                barrier.wait()  # every sync call is inside its span at the same time
            return key.upper()

        async def alookup(key: str) -> str:
            """Looks a key up, asynchronously."""
            with tracer.start_as_current_span("user.lookup") as span:
                span.set_attribute("key", key)
                await asyncio.sleep(0.02)  # the others start meanwhile
            return key.upper()

        def calls(name: str, keys: list[str]) -> list[dict[str, Any]]:
            return [{"name": name, "arguments": {"key": k}} for k in keys]

        sync_keys, async_keys = ["s0", "s1", "s2", "s3"], ["a0", "a1", "a2", "a3"]
        loopback.enqueue(Reply(text="sync", match="sync", tool_calls=calls("lookup", sync_keys)))
        loopback.enqueue(
            Reply(text="async", match="async", tool_calls=calls("alookup", async_keys))
        )
        m = MelleaSession(OllamaModelBackend("granite4:micro", base_url=loopback.url))
        options = {ModelOption.TOOLS: [lookup, alookup]}
        first = await m.ainstruct("sync", model_options=options, tool_calls=True)
        second = await m.ainstruct("async", model_options=options, tool_calls=True)
        await asyncio.gather(first.avalue(), second.avalue())
        results = await asyncio.gather(
            acall_tools(first, m.backend, concurrent=True),
            acall_tools(second, m.backend, concurrent=True),
        )
        assert [msg.content for msgs in results for msg in msgs] == [
            k.upper() for k in sync_keys + async_keys
        ]
        assert no_mellea_span_here()
        await m.backend.aclose()  # type: ignore[attr-defined]
        users = otel.spans("user.lookup")
        assert len(users) == 8
        for user in users:
            key = attrs(user)["key"]
            parent = otel.parent_of(user)
            assert parent is not None and parent.name.startswith("execute_tool"), otel.tree()
            assert f'"key": "{key}"' in str(attrs(parent)["gen_ai.tool.call.arguments"])
        assert len({otel.parent_of(u) for u in users}) == 8  # one tool span each
    finally:
        shutdown()


# ----- user spans in validation functions --------------------------------------------


def test_a_span_opened_in_a_validation_function_nests_under_validation(
    otel: Otel, loopback: LoopbackServer
) -> None:
    tracer = otel.tracer("my-app")

    def sync_check(ctx: Any) -> bool:  # runs on the validation executor's thread
        with tracer.start_as_current_span("user.sync_check"):
            return "Echo" in str(ctx.last_output().value)

    async def async_check(ctx: Any) -> ValidationResult:
        with tracer.start_as_current_span("user.async_check"):
            await asyncio.sleep(0)
            return ValidationResult(True)

    with start_session("ollama", model_id="granite4:micro", base_url=loopback.url) as m:
        m.instruct("Say hi.", requirements=[
            Requirement("Echoes.", validation_fn=sync_check),
            Requirement("Anything.", validation_fn=async_check),
        ])  # fmt: skip
    assert no_mellea_span_here()
    validation = otel.span("validation")
    assert attrs(validation)["mellea.validation.passed"] is True
    assert_child_of(otel, otel.span("user.sync_check"), validation)
    assert_child_of(otel, otel.span("user.async_check"), validation)


async def test_concurrent_validations_each_parent_their_own_spans(
    loopback: LoopbackServer,
) -> None:
    """Eight calls at once, each validated by a sync function (worker threads) that opens a
    span naming the output it saw: each sits under its own call's validation."""
    otel = start_otel(TelemetryConfig(content=True))
    try:
        tracer = otel.tracer("my-app")
        loopback.configure(token_delay=0.002)

        def check(ctx: Any) -> bool:
            text = str(ctx.last_output().value)
            with tracer.start_as_current_span("user.check") as span:
                span.set_attribute("task", re.findall(r"task-\d", text)[0])
            return True

        m = MelleaSession(OpenAIBackend("m", base_url=loopback.openai_base_url, api_key="k"))
        requirement = Requirement("Checked.", validation_fn=check)
        thunks = await asyncio.gather(
            *(m.ainstruct(f"task-{i}", requirements=[requirement]) for i in range(8))
        )
        await asyncio.gather(*(t.avalue() for t in thunks))
        await drain_background_tasks()
        await m.backend.aclose()  # type: ignore[attr-defined]
        checks = otel.spans("user.check")
        assert len(checks) == 8
        for user in checks:
            validation = otel.parent_of(user)
            assert validation is not None and validation.name == "validation", otel.tree()
            node: ReadableSpan | None = validation
            while node is not None and node.name != "action":
                node = otel.parent_of(node)
            assert node is not None
            assert attrs(user)["task"] in str(attrs(node)["mellea.action.response"])
        assert len({otel.parent_of(u) for u in checks}) == 8
    finally:
        shutdown()


# ----- trace context on the wire -----------------------------------------------------


def traceparent_of(request: Any) -> tuple[int, int]:
    found = TRACEPARENT.fullmatch(request.headers.get("traceparent", ""))
    assert found, request.headers
    return int(found[1], 16), int(found[2], 16)


def generations(loopback: LoopbackServer) -> list[Any]:
    return [r for r in loopback.stats().requests if r.method == "POST"]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("engine", ["ollama", "openai", "litellm"])
async def test_requests_carry_their_chat_spans_traceparent(
    otel: Otel, loopback: LoopbackServer, engine: str, stream: bool
) -> None:
    backend: Any
    if engine == "ollama":
        backend = OllamaModelBackend("granite4:micro", base_url=loopback.url)
    elif engine == "openai":
        backend = OpenAIBackend("m", base_url=loopback.openai_base_url, api_key="k")
    else:
        backend = LiteLLMBackend("openai/m", base_url=loopback.openai_base_url, api_key="k")
    m = MelleaSession(backend)
    options = {ModelOption.STREAM: stream}
    thunks = [await m.ainstruct(f"q{i}", model_options=options) for i in range(3)]
    await asyncio.gather(*(t.avalue() for t in thunks))
    await drain_background_tasks()
    await m.backend.aclose()  # type: ignore[attr-defined]
    sent = {traceparent_of(r) for r in generations(loopback)}
    chats = {
        (s.context.trace_id, s.context.span_id) for s in otel.spans() if s.name.startswith("chat ")
    }
    assert len(chats) == 3 and sent == chats  # each request carries its own chat span


async def test_raw_batch_requests_carry_the_text_completion_span(
    otel: Otel, loopback: LoopbackServer
) -> None:
    backend = OpenAIBackend("m", base_url=loopback.openai_base_url, api_key="k")
    mots = await backend.generate_from_raw([CBlock("a"), CBlock("b")], SimpleContext())
    await asyncio.gather(*(m.avalue() for m in mots))
    await drain_background_tasks()
    await backend.aclose()
    span = otel.span("text_completion m")
    requests = generations(loopback)
    assert len(requests) == 2
    assert {traceparent_of(r) for r in requests} == {(span.context.trace_id, span.context.span_id)}


def test_the_request_span_replaces_a_fixed_default_traceparent(
    otel: Otel, loopback: LoopbackServer
) -> None:
    fixed = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"
    backend = OpenAIBackend(
        "m", base_url=loopback.openai_base_url, api_key="k",
        default_headers={"TraceParent": fixed, "X-Team": "a"},
    )  # fmt: skip
    MelleaSession(backend).instruct("hi")
    (request,) = generations(loopback)
    chat = otel.span("chat m")
    assert traceparent_of(request) == (chat.context.trace_id, chat.context.span_id)
    assert request.headers["x-team"] == "a"


def test_no_trace_context_is_sent_with_tracing_off(loopback: LoopbackServer) -> None:
    otel = start_otel()
    shutdown()
    assert hooks.outbound_headers is None
    assert hooks.running("any") is hooks.running("other")  # the one shared no-op
    m = MelleaSession(OllamaModelBackend("granite4:micro", base_url=loopback.url))
    m.instruct("hi")
    (request,) = generations(loopback)
    assert "traceparent" not in request.headers
    assert not otel.spans()


def test_a_span_opened_in_a_sampling_strategy_nests_under_sampling(
    otel: Otel, loopback: LoopbackServer
) -> None:
    tracer = otel.tracer("my-app")

    class LastWins(RejectionSamplingStrategy):
        @staticmethod
        def select_from_failure(
            sampled_actions: list[Any], sampled_results: list[Any], sampled_val: list[Any]
        ) -> int:
            with tracer.start_as_current_span("user.select"):
                return len(sampled_results) - 1

    m = MelleaSession(OllamaModelBackend("granite4:micro", base_url=loopback.url))
    never = Requirement("Never.", validation_fn=lambda ctx: False)
    m.instruct("hi", requirements=[never], strategy=LastWins(loop_budget=2))
    assert no_mellea_span_here()
    assert_child_of(otel, otel.span("user.select"), otel.span("sampling"))
