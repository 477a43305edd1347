"""The backend's aiohttp session: one per backend, opened on first use, connections kept
alive across calls (streamed ones too), closed by `aclose()` or when the backend is
dropped — observed from the server's side and aiohttp's pool."""

from __future__ import annotations

import gc
import logging

import pytest

from mellea.backends import ModelOption
from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.openai import OpenAIBackend
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer

pytestmark = pytest.mark.timeout(60)
STREAM = {ModelOption.STREAM: True}


def test_one_session_per_backend_reused_by_every_call(loopback: LoopbackServer) -> None:
    backend = OpenAIBackend("m", base_url=[loopback.openai_base_url, loopback.openai_base_url])
    http = backend._http
    assert not http.is_open  # nothing opened by the constructor
    m = MelleaSession(backend)
    m.instruct("a")
    client = http.endpoints[0].client
    session = client._session
    for i in range(6):
        m.instruct(f"q{i}", model_options=STREAM if i % 2 else {})
    assert client._session is session and http.endpoints[1].client is client
    stats = client.pool_stats()
    assert stats is not None and stats["in_use"] == 0 and stats["open"] >= 1
    m.close()
    assert not http.is_open and loopback.wait_for(lambda s: s.open_connections == 0)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_sequential_calls_share_one_connection(loopback: LoopbackServer, stream: bool) -> None:
    m = MelleaSession(OllamaModelBackend("m", base_url=loopback.url))
    for i in range(5):
        assert m.instruct(f"q{i}", model_options={ModelOption.STREAM: stream}).value
    stats = loopback.stats(include_requests=False)
    assert stats.total_requests == 5 and stats.max_open_connections == 1
    m.close()


def test_a_dropped_backend_closes_its_connections_quietly(
    loopback: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    m = MelleaSession(OpenAIBackend("m", base_url=loopback.openai_base_url))
    m.instruct("x")
    assert loopback.stats().open_connections == 1
    del m
    gc.collect()
    assert loopback.wait_for(lambda s: s.open_connections == 0)
    assert "Unclosed" not in caplog.text


def test_a_closed_backend_can_be_used_again(loopback: LoopbackServer) -> None:
    m = MelleaSession(OpenAIBackend("m", base_url=loopback.openai_base_url))
    m.instruct("x")
    m.close()
    assert m.instruct("again").value == "Echo: again"  # a new session, opened on demand
    m.close()
