"""Shared fixtures: the loopback LLM server and a clean environment per test."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.servers.fixtures import loopback, loopback_session  # noqa: F401 - fixtures
from tests.servers.llama_server import llama_server, llama_server_process  # noqa: F401

pytest_plugins: list[str] = []


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test talks to a real Ollama by accident."""
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    monkeypatch.delenv("MELLEA_BACKEND", raising=False)
    for name in ("MELLEA_MODEL", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture
def mellea_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="mellea")
    return caplog
