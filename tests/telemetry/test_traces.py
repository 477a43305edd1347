"""Spans of real calls on the loopback server, read from the SDK's in-memory exporter:
the tree of a sampled `instruct` with a tool call, nesting across the I/O thread and
concurrent thunks, GenAI attributes, errors, and refusals."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from mellea import generative, start_session
from mellea.backends import ModelOption
from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.openai import OpenAIBackend
from mellea.core.errors import BackendStatusError, PluginViolationError
from mellea.core.utils import OtelTraceFilter
from mellea.plugins import HookType, block, hook, register, unregister
from mellea.stdlib.functional import call_tools
from mellea.stdlib.requirements import req, simple_validate
from mellea.stdlib.sampling import RejectionSamplingStrategy
from mellea.stdlib.session import MelleaSession
from mellea.telemetry import TelemetryConfig, shutdown
from mellea.telemetry.tracing import get_application_tracer
from tests.servers import LoopbackServer, Reply
from tests.telemetry.conftest import Otel, start_otel

JUDGE = "Decide whether the output"  # the LLM-as-a-judge prompt's opening


def get_weather(location: str) -> str:
    """The weather at a location."""
    return f"sunny in {location}"


def weather_call() -> list[dict[str, Any]]:
    return [{"name": "get_weather", "arguments": {"location": "Paris"}}]


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def test_sampled_instruct_with_a_tool_call(otel: Otel, loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply(text="Let me look that up.", tool_calls=weather_call(),
              usage={"prompt_tokens": 31, "completion_tokens": 12}),
        Reply(text="Checking the weather in Paris.", tool_calls=weather_call()),
    )  # fmt: skip
    loopback.enqueue(Reply(text="Yes, it is polite.", match=JUDGE, times=-1))
    with start_session("ollama", model_id="granite4:micro", base_url=loopback.url) as m:
        result = m.instruct(
            "What is the weather in Paris? Use the tool.",
            requirements=[req("Mentions Paris.", validation_fn=simple_validate(lambda t: "Paris" in t)),
                          "Be polite."],
            strategy=RejectionSamplingStrategy(loop_budget=3),
            model_options={ModelOption.TOOLS: [get_weather]},
            tool_calls=True,
        )  # fmt: skip
        (message,) = call_tools(result, m.backend)
    assert message.content == "sunny in Paris"
    assert otel.tree() == "\n".join([
        "start_session",
        "session",
        "  action",
        "    sampling",
        "      attempt",
        "        chat granite4:micro",
        "        validation",
        "          chat granite4:micro",
        "      attempt",
        "        chat granite4:micro",
        "        validation",
        "          chat granite4:micro",
        "  execute_tool get_weather",
    ])  # fmt: skip
    assert otel.span("start_session").end_time <= otel.span("session").start_time  # type: ignore[operator]
    assert attrs(otel.span("session"))["gen_ai.provider.name"] == "ollama"
    action = attrs(otel.span("action"))
    assert action["mellea.component.type"] == "Instruction"
    assert action["mellea.action.has_requirements"] and action["mellea.action.tool_calls"]
    assert action["mellea.sampling.strategy_type"] == "RejectionSamplingStrategy"
    assert (
        action["mellea.sampling.success"] is True and action["mellea.action.num_generate_logs"] == 2
    )
    assert action["mellea.action.response_length"] == len("Checking the weather in Paris.")
    assert "mellea.action.response" not in action  # content capture is off
    sampling = otel.span("sampling")
    assert attrs(sampling)["mellea.sampling.loop_budget"] == 3
    assert attrs(sampling)["mellea.sampling.iterations_used"] == 2
    assert attrs(sampling)["mellea.sampling.requirement_count"] == 2
    assert [e.name for e in sampling.events] == ["iteration", "repair", "iteration"]
    first, second = otel.children(sampling)
    assert attrs(first)["mellea.sampling.iteration"] == 1
    assert attrs(first)["mellea.sampling.all_validations_passed"] is False
    assert attrs(second)["mellea.sampling.all_validations_passed"] is True
    chat, validation = otel.children(first)
    chat_attrs = attrs(chat)
    assert chat_attrs["gen_ai.operation.name"] == "chat"
    assert chat_attrs["gen_ai.provider.name"] == "ollama"
    assert chat_attrs["gen_ai.request.model"] == "granite4:micro"
    assert chat_attrs["gen_ai.usage.input_tokens"] == 31
    assert chat_attrs["gen_ai.usage.output_tokens"] == 12
    assert chat_attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert chat_attrs["mellea.action.tool_calls"] is True
    assert "gen_ai.response.time_to_first_chunk" not in chat_attrs  # not streamed
    assert chat.kind.name == "CLIENT"
    validation_attrs = attrs(validation)
    assert validation_attrs["mellea.validation.requirement_count"] == 2
    assert validation_attrs["mellea.validation.passed"] is False
    assert validation_attrs["mellea.validation.failed_count"] == 1
    (judge,) = otel.children(validation)
    assert attrs(judge)["mellea.component.type"] == "JudgeRequest"
    tool = attrs(otel.span("execute_tool get_weather"))
    assert tool["gen_ai.operation.name"] == "execute_tool"
    assert tool["gen_ai.tool.name"] == "get_weather" and tool["mellea.tool.status"] == "success"
    assert tool["gen_ai.tool.description"] == "The weather at a location."
    assert len(tool["mellea.tool.arguments_hash"]) == 16
    assert "gen_ai.tool.call.arguments" not in tool
    # Scopes: application spans on mellea.application, requests on mellea.backend.
    assert {s.instrumentation_scope.name for s in otel.spans() if s.name.startswith("chat")} == {
        "mellea.backend"
    }
    assert otel.span("action").instrumentation_scope.name == "mellea.application"


async def test_concurrent_thunks_nest_under_their_own_call(loopback: LoopbackServer) -> None:
    """Eight async calls at once and three sync ones from threads, each with a sampling
    loop and a judge: every request sits under the call that started it."""
    otel = start_otel(TelemetryConfig(content=True))
    try:
        loopback.configure(token_delay=0.005)
        loopback.enqueue(Reply(text="yes", match=JUDGE, times=-1))
        m = MelleaSession(OpenAIBackend("m", base_url=loopback.openai_base_url, api_key="k"))
        reqs = [
            "Be brief.",
            req("Has an echo.", validation_fn=simple_validate(lambda t: "Echo" in t)),
        ]

        def sync_call(i: int) -> None:
            m.instruct(f"task-{i:02d}", requirements=reqs)

        threads = [threading.Thread(target=sync_call, args=(i,)) for i in range(8, 11)]
        for t in threads:
            t.start()
        thunks = [await m.ainstruct(f"task-{i:02d}", requirements=reqs) for i in range(8)]
        await asyncio.gather(*(t.avalue() for t in thunks))
        for t in threads:
            t.join()
        await m.backend.aclose()  # type: ignore[attr-defined]
        actions = otel.spans("action")
        assert len(actions) == 11
        for action in actions:
            (task,) = re.findall(r"task-\d\d", str(attrs(action)["mellea.action.response"]))
            chats = [s for s in _descendants(otel, action) if s.name.startswith("chat")]
            assert len(chats) == 2  # the attempt and its judge
            for chat in chats:
                text = str(attrs(chat)["gen_ai.input.messages"])
                assert task in text, (task, text)
                others = [f"task-{i:02d}" for i in range(11) if f"task-{i:02d}" != task]
                assert not any(o in text for o in others)
    finally:
        shutdown()


def _descendants(otel: Otel, span: ReadableSpan) -> list[ReadableSpan]:
    out = []
    for child in otel.children(span):
        out += [child, *_descendants(otel, child)]
    return out


def test_http_error_is_recorded_on_the_spans(otel: Otel, loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(status=400, error_body="unsupported parameter"))
    m = start_session("ollama", model_id="granite4:micro", base_url=loopback.url)
    with pytest.raises(BackendStatusError):
        m.instruct("Hello")
    chat = otel.span("chat granite4:micro")
    assert chat.status.status_code is StatusCode.ERROR
    assert attrs(chat)["error.type"] == "BackendStatusError"
    assert attrs(chat)["http.response.status_code"] == 400
    assert [e.name for e in chat.events] == ["exception"]
    action = otel.span("action")
    assert action.status.status_code is StatusCode.ERROR
    assert otel.parent_of(chat) is action
    assert otel.total("mellea.llm.errors", **{"mellea.error.category": "invalid_request"}) == 1
    assert (
        otel.count("gen_ai.client.operation.duration", **{"error.type": "BackendStatusError"}) == 1
    )


def test_a_refused_call_is_in_the_trace_but_not_an_llm_error(
    otel: Otel, loopback: LoopbackServer
) -> None:
    @hook(HookType.GENERATION_PRE_CALL)
    async def no_requests(payload: Any, ctx: Any) -> Any:
        return block("not today", code="POLICY")

    register(no_requests)
    try:
        m = start_session("ollama", model_id="granite4:micro", base_url=loopback.url)
        with pytest.raises(PluginViolationError):
            m.instruct("Hello")
    finally:
        unregister(no_requests)
    assert loopback.stats().for_path("/api/chat") == []  # nothing was sent
    chat = otel.span("chat granite4:micro")
    assert chat.status.status_code is StatusCode.ERROR
    assert attrs(chat)["error.type"] == "PluginViolationError"
    assert otel.points("mellea.llm.errors") == []


def test_usage_details_and_response_fields_on_the_openai_wire(
    otel: Otel, loopback: LoopbackServer
) -> None:
    loopback.enqueue(Reply(text="Four.", usage={
        "prompt_tokens": 1000, "completion_tokens": 100,
        "prompt_tokens_details": {"cached_tokens": 800},
        "completion_tokens_details": {"reasoning_tokens": 40},
    }))  # fmt: skip
    m = MelleaSession(OpenAIBackend("gpt-4o", base_url=loopback.openai_base_url, api_key="k"))
    out = m.instruct("2+2?", model_options={ModelOption.TEMPERATURE: 0, ModelOption.SEED: 7})
    chat = attrs(otel.span("chat gpt-4o"))
    assert chat["gen_ai.usage.input_tokens"] == 1000 and chat["gen_ai.usage.output_tokens"] == 100
    assert chat["gen_ai.usage.cache_read.input_tokens"] == 800
    assert chat["gen_ai.usage.reasoning.output_tokens"] == 40
    assert chat["gen_ai.response.id"] == out.generation.response_id
    assert chat["gen_ai.response.model"] == "gpt-4o"
    assert chat["gen_ai.request.temperature"] == 0 and chat["gen_ai.request.seed"] == 7
    assert chat["gen_ai.provider.name"] == "openai"


def test_streamed_request_chunks_and_time_to_first_chunk(loopback: LoopbackServer) -> None:
    otel = start_otel(TelemetryConfig(chunk_events=True))
    try:
        loopback.configure(ttft=0.05, token_delay=0.01)
        m = start_session("ollama", model_id="granite4:micro", base_url=loopback.url)
        out = m.instruct("one two three four", model_options={ModelOption.STREAM: True})
        chat = otel.span("chat granite4:micro")
        chunks = [e for e in chat.events if e.name == "chunk_processed"]
        assert len(chunks) == len(out.value.split())  # one event per streamed chunk
        assert "mellea.generation.time_since_last_chunk_ms" not in (chunks[0].attributes or {})
        assert attrs(chat)["gen_ai.request.stream"] is True
        ttfb = attrs(chat)["gen_ai.response.time_to_first_chunk"]
        assert ttfb >= 0.05
        assert otel.count("gen_ai.client.operation.time_to_first_chunk") == 1
        assert otel.count("gen_ai.client.operation.time_per_output_chunk") == len(chunks) - 1
    finally:
        shutdown()


def test_an_application_span_parents_mellea_spans(otel: Otel, loopback: LoopbackServer) -> None:
    m = start_session("ollama", model_id="granite4:micro", base_url=loopback.url)
    tracer = get_application_tracer()
    with tracer.start_as_current_span("handle-request"):
        m.instruct("Hello")
    outer = otel.span("handle-request")
    action = otel.span("action")
    assert otel.parent_of(action) is outer
    assert otel.parent_of(otel.span("chat granite4:micro")) is action


@generative
def classify_sentiment(text: str) -> str:
    """Classify the sentiment of the given text as positive, negative, or neutral."""


def test_generative_call_and_validate_in_a_session(otel: Otel, loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text="no", match=JUDGE))
    with start_session("ollama", model_id="granite4:micro", base_url=loopback.url) as m:
        classify_sentiment(m, text="I love it")
        m.validate(["Be positive."])
    session = otel.span("session")
    action, validation = otel.children(session)
    assert action.name == "action" and validation.name == "validation"
    assert attrs(action)["mellea.component.type"] != "Instruction"
    assert attrs(validation)["mellea.validation.passed"] is False
    assert otel.span("session").end_time is not None


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.addFilter(OtelTraceFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_log_records_name_the_span_they_were_logged_in(
    otel: Otel, loopback: LoopbackServer
) -> None:
    """The sampling loop's "no attempt passed" warning is logged on mellea's I/O thread,
    where no span is current: the record still names the loop's span."""
    handler = _Records()
    logger = logging.getLogger("mellea")
    logger.addHandler(handler)
    try:
        m = start_session("ollama", model_id="granite4:micro", base_url=loopback.url)
        never = req("x", validation_fn=simple_validate(lambda t: False))
        m.instruct("Hello", requirements=[never], strategy=RejectionSamplingStrategy(loop_budget=1))
    finally:
        logger.removeHandler(handler)
    (warning,) = [r for r in handler.records if "no attempt passed" in r.getMessage()]
    sampling = otel.span("sampling")
    assert warning.trace_id == format(sampling.context.trace_id, "032x")  # type: ignore[attr-defined]
    assert warning.span_id in {  # type: ignore[attr-defined]
        format(s.context.span_id, "016x") for s in (sampling, otel.span("action"))
    }


async def test_raw_batch_is_one_text_completion_span(otel: Otel, loopback: LoopbackServer) -> None:
    from mellea.core.base import CBlock
    from mellea.plugins.manager import drain_background_tasks
    from mellea.stdlib.context import SimpleContext

    backend = OllamaModelBackend("granite4:micro", base_url=loopback.url)
    mots = await backend.generate_from_raw([CBlock("a b"), CBlock("c")], SimpleContext())
    values = [await m.avalue() for m in mots]
    await drain_background_tasks()
    await backend.aclose()
    assert len(values) == 2
    span = otel.span("text_completion granite4:micro")
    assert span.instrumentation_scope.name == "mellea.backend"
    batch = attrs(span)
    assert batch["gen_ai.operation.name"] == "text_completion"
    assert batch["mellea.request.num_actions"] == 2
    usage = [m.generation.usage for m in mots]
    assert batch["gen_ai.usage.output_tokens"] == sum(u["completion_tokens"] for u in usage)
    assert otel.total("gen_ai.client.token.usage", **{"gen_ai.operation.name": "text_completion",
                                                      "gen_ai.token.type": "output"}) > 0  # fmt: skip
