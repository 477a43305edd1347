"""`use_cassette` in-process: what is recorded and how it replays (see also the plugin test)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from mellea.backends import ModelOption
from mellea.backends._policy import RetryPolicy
from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.response_cache import CachedBackend
from mellea.core.errors import BackendStatusError, BackendUnavailableError, CassetteMissError
from mellea.stdlib.session import MelleaSession
from mellea.testing import use_cassette
from tests.servers import LoopbackServer, Reply

NO_RETRY = RetryPolicy(max_retries=0)
SAMPLED: dict[str, Any] = {ModelOption.TEMPERATURE: 0.9}


def _session(url: str) -> MelleaSession:
    return MelleaSession(OllamaModelBackend("m", base_url=url, retry=NO_RETRY))


async def test_identical_requests_replay_their_answers_in_order(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    path = tmp_path / "c.json"
    loopback.enqueue(Reply(text="first"), Reply(text="second"))
    m = _session(loopback.url)
    with use_cassette(path, "record"):
        recorded = [str(await m.ainstruct("same", model_options=SAMPLED)) for _ in range(2)]
    assert recorded == ["first", "second"]
    loopback.stop()
    with use_cassette(path, "replay") as cassette:
        replayed = [str(await m.ainstruct("same", model_options=SAMPLED)) for _ in range(3)]
    assert replayed == ["first", "second", "second"]  # the last one repeats
    assert not cassette.misses


async def test_http_errors_replay_and_cancellations_replay_as_cancellable(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    path = tmp_path / "c.json"
    loopback.configure(tokens=50, token_delay=0.01)
    loopback.enqueue(Reply(match="bad", status=422, error_body="no such thing"))
    m = _session(loopback.url)
    stream = {ModelOption.STREAM: True}
    with use_cassette(path, "record"):
        failed = await m.ainstruct("bad", model_options=stream)
        with pytest.raises(BackendStatusError):
            await failed.avalue()
        cut = await m.ainstruct("long", model_options=stream)
        partial = await cut.astream()
        await cut.acancel()
    interactions = json.loads(path.read_text())["interactions"]
    assert interactions[0]["response"]["error"]["status_code"] == 422
    assert interactions[1]["response"]["cancelled"] is True
    assert "".join(interactions[1]["response"]["chunks"]).startswith(partial)
    loopback.stop()

    with use_cassette(path, "replay"):
        failed = await m.ainstruct("bad", model_options=stream)
        with pytest.raises(BackendStatusError) as info:
            await failed.avalue()
        assert info.value.status_code == 422
        cut = await m.ainstruct("long", model_options=stream)
        assert (await cut.astream()).startswith(partial)
        await asyncio.sleep(0.05)
        assert not cut.is_computed()  # it never finished: it waits to be cancelled
        await cut.acancel()
        assert cut.is_cancelled()


async def test_a_request_without_an_answer_leaves_the_file_alone(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    path = tmp_path / "c.json"
    m = _session(loopback.url)
    with use_cassette(path, "record"):
        await (await m.ainstruct("hello")).avalue()
    good = path.read_text()
    loopback.stop()
    with use_cassette(path, "record") as cassette:
        mot = await m.ainstruct("hello")
        with pytest.raises(BackendUnavailableError):
            await mot.avalue()
    assert cassette.incomplete and path.read_text() == good


async def test_a_miss_fails_the_thunk_with_a_diff(loopback: LoopbackServer, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    m = _session(loopback.url)
    with use_cassette(path, "record"):
        await (await m.ainstruct("the cat sat", model_options={ModelOption.SEED: 1})).avalue()
    with use_cassette(path, "replay") as cassette:
        mot = await m.ainstruct("the cat sat", model_options={ModelOption.SEED: 2})
        with pytest.raises(CassetteMissError) as info:
            await mot.avalue()
    message = str(info.value)
    assert '-      "seed": 1' in message and '+      "seed": 2' in message
    assert cassette.misses == [message]
    assert len(loopback.stats().for_path("/api/chat")) == 1  # replay never reached the server


async def test_the_cache_sits_above_the_cassette(loopback: LoopbackServer, tmp_path: Path) -> None:
    """A cache miss during a recorded test is recorded; replayed, it is served offline."""
    path = tmp_path / "c.json"
    greedy = {ModelOption.TEMPERATURE: 0}
    with use_cassette(path, "record"):
        m = MelleaSession(CachedBackend(OllamaModelBackend("m", base_url=loopback.url)))
        assert str(m.instruct("q", model_options=greedy)) == "Echo: q"
        assert m.instruct("q", model_options=greedy).generation.extra["cache"] == "hit"
    assert len(json.loads(path.read_text())["interactions"]) == 1
    loopback.stop()
    with use_cassette(path, "replay"):
        fresh = MelleaSession(CachedBackend(OllamaModelBackend("m", base_url=loopback.url)))
        mot = fresh.instruct("q", model_options=greedy)
        assert str(mot) == "Echo: q" and mot.generation.extra["cache"] == "miss"
