"""Metrics of real calls on the loopback server, read from the SDK's in-memory reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mellea import start_session
from mellea.backends import ModelOption
from mellea.backends.openai import OpenAIBackend
from mellea.stdlib.functional import call_tools
from mellea.stdlib.requirements import req, simple_validate
from mellea.stdlib.sampling import RejectionSamplingStrategy
from mellea.stdlib.session import MelleaSession
from mellea.telemetry import pricing
from tests.servers import LoopbackServer, Reply
from tests.telemetry.conftest import Otel


def get_weather(location: str) -> str:
    """The weather at a location."""
    if location == "Atlantis":
        raise LookupError("no such place")
    return f"sunny in {location}"


def test_tokens_durations_and_requests(otel: Otel, loopback: LoopbackServer) -> None:
    m = start_session("ollama", model_id="granite4:micro", base_url=loopback.url)
    m.instruct("one two three")
    m.instruct("four five", model_options={ModelOption.STREAM: True})
    common = {"gen_ai.provider.name": "ollama", "gen_ai.request.model": "granite4:micro",
              "gen_ai.operation.name": "chat"}  # fmt: skip
    usage = [r.body for r in loopback.stats().for_path("/api/chat")]
    assert len(usage) == 2
    assert otel.count("gen_ai.client.token.usage", **common) == 4  # input + output, twice
    outputs = otel.total("gen_ai.client.token.usage", **{"gen_ai.token.type": "output"})
    assert outputs == len("Echo: one two three".split()) + len("Echo: four five".split())
    assert otel.count("gen_ai.client.operation.duration", **common) == 2
    assert otel.count("gen_ai.client.operation.duration", **{"gen_ai.request.stream": True}) == 1
    assert otel.total("mellea.llm.requests", **common) == 2
    assert otel.count("gen_ai.client.operation.time_to_first_chunk") == 1  # the streamed one
    assert otel.points("gen_ai.client.operation.time_per_output_chunk") == []  # opt-in


def test_sampling_requirement_and_tool_counters(otel: Otel, loopback: LoopbackServer) -> None:
    call = [{"name": "get_weather", "arguments": {"location": "Atlantis"}}]
    loopback.enqueue(Reply(text="Hmm."), Reply(text="Paris, then.", tool_calls=call))
    m = start_session("ollama", model_id="granite4:micro", base_url=loopback.url)
    out = m.instruct(
        "Weather?", requirements=[req("Mentions Paris.", validation_fn=simple_validate(
            lambda t: "Paris" in t))],
        strategy=RejectionSamplingStrategy(loop_budget=2),
        model_options={ModelOption.TOOLS: [get_weather]}, tool_calls=True,
    )  # fmt: skip
    (message,) = call_tools(out, m.backend)
    assert "no such place" in message.content
    m.instruct("Never passes.", requirements=[req("x", validation_fn=simple_validate(
        lambda t: False, reason="not good"))], strategy=RejectionSamplingStrategy(loop_budget=1))  # fmt: skip
    strategy = {"strategy": "RejectionSamplingStrategy"}
    assert otel.total("mellea.sampling.attempts", **strategy) == 3
    assert otel.total("mellea.sampling.successes", **strategy) == 1
    assert otel.total("mellea.sampling.failures", **strategy) == 1
    assert otel.total("mellea.requirement.checks", requirement="Requirement") == 3
    assert otel.total("mellea.requirement.failures", requirement="Requirement") == 2
    assert otel.total("mellea.requirement.failures", reason="not good") == 1
    assert otel.total("mellea.tool.calls", **{"gen_ai.tool.name": "get_weather",
                                              "status": "failure"}) == 1  # fmt: skip


def test_cost_in_usd(otel: Otel, loopback: LoopbackServer, tmp_path: Path,
                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"house-model": {"input_cost_per_token": 0.001,
                                                  "output_cost_per_token": 0.002}}))  # fmt: skip
    monkeypatch.setenv("MELLEA_PRICING_FILE", str(prices))
    pricing.reset_pricing()
    try:
        loopback.enqueue(
            Reply(text="Four.", usage={"prompt_tokens": 1000, "completion_tokens": 100,
                                       "prompt_tokens_details": {"cached_tokens": 800}}),
            Reply(text="Fine.", usage={"prompt_tokens": 10, "completion_tokens": 5}),
        )  # fmt: skip
        table = json.loads(pricing.default_table_path().read_text())["gpt-4o"]  # type: ignore[union-attr]
        gpt = MelleaSession(OpenAIBackend("gpt-4o", base_url=loopback.openai_base_url, api_key="k"))
        gpt.instruct("2+2?")
        house = MelleaSession(
            OpenAIBackend("house-model", base_url=loopback.openai_base_url, api_key="k")
        )
        house.instruct("ok?")
        expected = (200 * table["input_cost_per_token"]
                    + 800 * table["cache_read_input_token_cost"]
                    + 100 * table["output_cost_per_token"])  # fmt: skip
        by_model = {p.attributes["gen_ai.request.model"]: p.value
                    for p in otel.points("mellea.llm.cost.usd")}  # fmt: skip
        assert by_model["gpt-4o"] == pytest.approx(expected)
        assert by_model["house-model"] == pytest.approx(10 * 0.001 + 5 * 0.002)
    finally:
        pricing.reset_pricing()
