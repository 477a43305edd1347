"""The metrics API, error categories, the price table and the telemetry context —
recorded into the real SDK's in-memory reader."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from mellea.core import errors, log_context
from mellea.core.hooks import scope
from mellea.core.utils import JsonFormatter
from mellea.telemetry import (
    MelleaContextFilter,
    async_with_context,
    create_counter,
    create_histogram,
    create_up_down_counter,
    generate_request_id,
    get_current_context,
    get_model_id,
    get_request_id,
    get_sampling_iteration,
    get_session_id,
    is_metrics_enabled,
    pricing,
    record_cost,
    record_error,
    record_request_duration,
    record_requirement_failure,
    record_token_usage_metrics,
    record_tool_call,
    record_ttfb,
    with_context,
)
from mellea.telemetry.metrics import classify_error
from tests.telemetry.conftest import Otel


def test_instruments_are_no_ops_while_metrics_are_off() -> None:
    assert not is_metrics_enabled()
    create_counter("myapp.requests").add(1, {"a": "b"})
    create_histogram("myapp.latency", unit="ms").record(1.5)
    create_up_down_counter("myapp.active").add(-1)
    record_token_usage_metrics(1, 2, "m", "ollama", "chat")  # nothing to record into: fine


def test_custom_instruments_record(otel: Otel) -> None:
    # The metrics page's example, verbatim in substance.
    requests = create_counter("myapp.requests", unit="1", description="Total requests")
    requests.add(1, {"backend": "ollama", "model": "granite4.1:3b"})
    latency = create_histogram("myapp.latency", unit="ms", description="Request latency")
    latency.record(120.5, {"backend": "ollama"})
    active = create_up_down_counter("myapp.sessions.active", unit="1", description="Active")
    active.add(1)
    active.add(-1)
    assert otel.total("myapp.requests", backend="ollama") == 1
    assert otel.total("myapp.latency") == 120.5
    assert otel.total("myapp.sessions.active") == 0


def test_record_functions_use_genai_names_and_buckets(otel: Otel) -> None:
    record_token_usage_metrics(150, 42, "gpt-4o", "openai", "chat")
    record_token_usage_metrics(None, 0, "gpt-4o", "openai", "chat")  # nothing reported: skipped
    record_request_duration(1.25, "gpt-4o", "openai", "chat", streaming=True)
    record_request_duration(0.5, "gpt-4o", "openai", "chat", exception_class="RateLimitedError")
    record_ttfb(0.18, "granite", "watsonx", "chat")
    record_cost(0.0021, "gpt-4o", "openai", "chat")
    record_error("rate_limit", "gpt-4o", "openai", "RateLimitedError", "chat")
    record_tool_call("search", "success")
    record_requirement_failure("LLMaJRequirement", "too long")
    assert otel.total("gen_ai.client.token.usage", **{"gen_ai.token.type": "input"}) == 150
    assert otel.total("gen_ai.client.token.usage", **{"gen_ai.token.type": "output"}) == 42
    assert otel.count("gen_ai.client.token.usage") == 2
    (tokens,) = [p for p in otel.points("gen_ai.client.token.usage")
                 if p.attributes["gen_ai.token.type"] == "input"]  # fmt: skip
    assert list(tokens.explicit_bounds[:4]) == [1, 4, 16, 64]  # the GenAI conventions' buckets
    durations = otel.points("gen_ai.client.operation.duration")
    assert {p.attributes.get("error.type") for p in durations} == {None, "RateLimitedError"}
    assert list(durations[0].explicit_bounds[:3]) == [0.01, 0.02, 0.04]
    assert otel.total("mellea.llm.requests") == 2
    ttfb = otel.points("gen_ai.client.operation.time_to_first_chunk")
    assert ttfb[0].attributes["gen_ai.provider.name"] == "ibm.watsonx.ai"
    assert otel.total("mellea.llm.cost.usd", **{"gen_ai.request.model": "gpt-4o"}) == 0.0021
    assert otel.total("mellea.llm.errors", **{"mellea.error.category": "rate_limit"}) == 1
    assert (
        otel.total("mellea.tool.calls", **{"gen_ai.tool.name": "search", "status": "success"}) == 1
    )
    assert otel.total("mellea.requirement.failures", reason="too long") == 1


@pytest.mark.parametrize(
    ("exc", "category"),
    [
        (errors.RateLimitedError("slow down", status_code=429), "rate_limit"),
        (errors.DeadlineExceededError("late"), "timeout"),
        (errors.ReadTimeoutError("stalled"), "timeout"),
        (TimeoutError(), "timeout"),
        (errors.BackendStatusError("no", status_code=401), "auth"),
        (errors.BackendStatusError("no", status_code=403), "auth"),
        (errors.BackendStatusError("bad", status_code=400, body='{"code":"content_policy_violation"}'),
         "content_policy"),
        (errors.BackendStatusError("bad", status_code=422), "invalid_request"),
        (errors.BackendStatusError("down", status_code=503), "server_error"),
        (errors.BackendUnavailableError("refused"), "transport_error"),
        (errors.BackendProtocolError("garbled"), "transport_error"),
        (errors.InvalidOptionError("temperature must be a number"), "invalid_request"),
        (type("APIConnectionError", (Exception,), {})(), "transport_error"),
        (type("AuthenticationError", (Exception,), {})(), "auth"),
        (type("InternalServerError", (Exception,), {})(), "server_error"),
        (ValueError("?"), "unknown"),
    ],
)  # fmt: skip
def test_error_categories(exc: BaseException, category: str) -> None:
    assert classify_error(exc) == category


# ----- pricing -----------------------------------------------------------------------------


@pytest.fixture
def fresh_pricing(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.delenv("MELLEA_PRICING_FILE", raising=False)
    monkeypatch.delenv("MELLEA_PRICING_ENABLED", raising=False)
    pricing.reset_pricing()
    yield monkeypatch
    pricing.reset_pricing()


def test_default_prices_come_from_litellms_table(fresh_pricing: pytest.MonkeyPatch) -> None:
    path = pricing.default_table_path()
    assert path is not None and path.name == "model_prices_and_context_window_backup.json"
    table = json.loads(path.read_text())
    entry = table["gpt-4o"]
    assert pricing.is_pricing_enabled()
    cost = pricing.compute_cost("gpt-4o", "openai", 1000, 100)
    assert cost == pytest.approx(1000 * entry["input_cost_per_token"]
                                 + 100 * entry["output_cost_per_token"])  # fmt: skip
    # Cached prompt tokens are billed at the cache-read price.
    cached = pricing.compute_cost("gpt-4o", "openai", 1000, 100, cached_tokens=800)
    assert cached == pytest.approx(200 * entry["input_cost_per_token"]
                                   + 800 * entry["cache_read_input_token_cost"]
                                   + 100 * entry["output_cost_per_token"])  # fmt: skip
    # Provider-prefixed ids (LiteLLM's own) resolve too.
    assert pricing.compute_cost("openai/gpt-4o", "litellm", 1000, 100) == pytest.approx(cost)


def test_pricing_file_overrides_and_adds(fresh_pricing: pytest.MonkeyPatch, tmp_path: Path,
                                         caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({
        "my-custom-model": {"input_cost_per_token": 0.000001, "output_cost_per_token": 0.000002},
        "gpt-4o": {"input_cost_per_token": 1.0, "output_cost_per_token": 2.0},
    }))  # fmt: skip
    fresh_pricing.setenv("MELLEA_PRICING_FILE", str(prices))
    assert pricing.compute_cost("my-custom-model", None, 1000, 500) == pytest.approx(0.002)
    assert pricing.compute_cost("gpt-4o", "openai", 1, 1) == 3.0
    with caplog.at_level(logging.WARNING, logger="mellea.telemetry"):
        assert pricing.compute_cost("granite4:micro", "ollama", 10, 10) is None
        assert pricing.compute_cost("granite4:micro", "ollama", 10, 10) is None
    assert [r.getMessage() for r in caplog.records].count(
        "no price for model 'granite4:micro': no cost is recorded for it") == 1  # fmt: skip


def test_broken_pricing_file_is_a_warning(fresh_pricing: pytest.MonkeyPatch, tmp_path: Path,
                                          caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    broken = tmp_path / "prices.json"
    broken.write_text("{not json")
    fresh_pricing.setenv("MELLEA_PRICING_FILE", str(broken))
    with caplog.at_level(logging.WARNING, logger="mellea.telemetry"):
        assert pricing.compute_cost("gpt-4o", "openai", 10, 10) is not None  # defaults still
    assert any("pricing file" in r.getMessage() for r in caplog.records)


def test_pricing_can_be_turned_off(fresh_pricing: pytest.MonkeyPatch) -> None:
    fresh_pricing.setenv("MELLEA_PRICING_ENABLED", "false")
    assert not pricing.is_pricing_enabled()
    assert pricing.compute_cost("gpt-4o", "openai", 10, 10) is None


async def test_first_async_cost_loads_off_the_loop(fresh_pricing: pytest.MonkeyPatch) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    task = asyncio.create_task(ticker())
    cost = await pricing.acompute_cost("gpt-4o", "openai", 10, 10)
    task.cancel()
    assert cost is not None and ticks > 1  # the loop kept running while the table loaded


# ----- context -----------------------------------------------------------------------------


def test_with_context_sets_and_restores() -> None:
    assert get_current_context() == {}
    with with_context(session_id="s-1", model_id="granite"):
        assert get_session_id() == "s-1" and get_model_id() == "granite"
        with with_context(request_id="r-9"):
            assert get_current_context() == {"session_id": "s-1", "model_id": "granite",
                                             "request_id": "r-9"}  # fmt: skip
        assert get_request_id() is None
    assert get_current_context() == {}
    with pytest.raises(ValueError, match="unknown telemetry context fields"):
        with with_context(user="x"):
            pass
    assert len(generate_request_id()) == 32


async def test_async_with_context_is_per_task() -> None:
    async def inner(name: str) -> str | None:
        async with async_with_context(request_id=name):
            await asyncio.sleep(0.01)
            return get_request_id()

    assert await asyncio.gather(inner("a"), inner("b")) == ["a", "b"]


def test_the_running_operation_supplies_the_fields() -> None:
    with scope("session", "sess-1", session_id="sess-1"):
        with scope("component", "call-7"), scope("sampling", "loop"), scope("attempt", attempt=2):
            assert get_session_id() == "sess-1"
            assert get_request_id() == "call-7"
            assert get_sampling_iteration() == 2
            with with_context(request_id="mine"):  # explicit wins
                assert get_request_id() == "mine"


def test_context_filter_puts_fields_on_json_records() -> None:
    record = logging.LogRecord("mellea", logging.INFO, __file__, 1, "SUCCESS", None, None)
    with log_context(user_id="usr-42"), with_context(session_id="s-1"):
        with scope("component", "call-1"):
            MelleaContextFilter().filter(record)
    out = json.loads(JsonFormatter().format(record))
    assert out["message"] == "SUCCESS"
    assert out["session_id"] == "s-1" and out["user_id"] == "usr-42"
    assert out["request_id"] == "call-1"
