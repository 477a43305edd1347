"""Docs pages on backends: the Ollama, OpenAI and LiteLLM integration pages — each example
unchanged. Examples that talk to a server reach the loopback server (through `OLLAMA_HOST`
or `OPENAI_BASE_URL`); those that only build a session are checked for what they built,
and for sending nothing."""

from __future__ import annotations

import json

import pytest

from mellea.backends.litellm import LiteLLMBackend
from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.openai import OpenAIBackend
from mellea.stdlib.context import ChatContext
from tests.docs._harness import chat_bodies, openai_bodies
from tests.docs.conftest import Runner
from tests.servers import LoopbackServer, Reply


def test_ollama_page(run: Runner, loopback: LoopbackServer) -> None:
    assert run("integrations_ollama/01").out == (
        "Echo: Write an email inviting the team to a meeting.\n"
    )
    assert run("integrations_ollama/02").ns["m"].backend.model_id == "llama3.2:3b"
    assert run("integrations_ollama/03").ns["m"].backend.model_id == "granite3.3:8b"
    m = run("integrations_ollama/04").ns["m"]
    assert m.backend.model_id == "granite3.3:8b" and isinstance(m.ctx, ChatContext)
    m = run("integrations_ollama/05").ns["m"]
    assert m.backend.base_url.startswith("http://my-gpu-server:11434")
    m = run("integrations_ollama/06").ns["m"]
    assert isinstance(m.backend, OllamaModelBackend) and m.backend.model_id == "granite4.1:3b"
    m = run("integrations_ollama/08").ns["m"]
    assert isinstance(m.backend, OpenAIBackend) and m.backend.model_id == "qwen2.5vl:7b"
    assert len(chat_bodies(loopback)) == 1


def test_openai_page_talks_to_the_server(run: Runner, loopback: LoopbackServer) -> None:
    assert run("integrations_openai/01").out == "Echo: What is the capital of France?\n"
    assert openai_bodies(loopback)[-1]["model"] == "gpt-4o"
    summary = {"title": "Mellea", "key_points": ["lazy", "typed"], "word_count": 3}
    loopback.enqueue(Reply(text=json.dumps(summary)))
    assert run("integrations_openai/09").out == "Mellea\n"
    schema = openai_bodies(loopback)[-1]["response_format"]["json_schema"]["schema"]
    assert schema["title"] == "Summary"


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("integrations_openai/02", "gpt-4o"),
        ("integrations_openai/03", "qwen/qwen2.5-vl-7b"),
        ("integrations_openai/04", "qwen2.5vl:7b"),
        ("integrations_openai/05", "ibm-granite/granite-3.3-8b-instruct"),
        ("integrations_openai/06", "qwen2.5vl:7b"),
        ("integrations_openai/10", "gpt-4o"),
        ("integrations_openai/11", None),
        ("integrations_openai/12", None),
        ("integrations_openai/13", "claude-3-haiku-20240307"),
        ("integrations_openai/17", "Qwen/Qwen3-Coder-Next-FP8"),
    ],
)
def test_openai_page_builds_sessions(
    run: Runner, loopback: LoopbackServer, name: str, model: str | None
) -> None:
    backend = run(name).ns["m"].backend
    assert isinstance(backend, OpenAIBackend)
    assert model is None or backend.model_id == model
    assert openai_bodies(loopback) == []


def test_openai_defaults_come_from_the_environment(run: Runner, loopback: LoopbackServer) -> None:
    backend = run("integrations_openai/06").ns["m"].backend
    assert backend.base_url.rstrip("/") == loopback.openai_base_url.rstrip("/")
    options = run("integrations_openai/10").ns["m"].backend.model_options
    assert "You are a concise technical writer." in options.values()


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("integrations_litellm/02", "anthropic/claude-sonnet-4-20250514"),
        ("integrations_litellm/03", "anthropic/claude-sonnet-4-20250514"),
        ("integrations_litellm/04", "azure/my-gpt-4o-deployment"),
        ("integrations_litellm/05", "watsonx/ibm/granite-3-3-8b-instruct"),
        ("integrations_litellm/06", "litellm_proxy/my-model"),
        ("integrations_litellm/07", "litellm_proxy/my-model"),
        ("integrations_litellm/09", "watsonx/ibm/granite-3-3-8b-instruct"),
        ("integrations_litellm/10", "anthropic/claude-sonnet-4-20250514"),
    ],
)
def test_litellm_page_builds_sessions(run: Runner, name: str, model: str) -> None:
    backend = run(name).ns["m"].backend
    assert isinstance(backend, LiteLLMBackend) and backend.model_id == model
