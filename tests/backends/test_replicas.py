"""Several replicas behind one OpenAIBackend: least-busy routing and failover."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from mellea.backends import ModelOption
from mellea.backends._policy import RetryPolicy
from mellea.backends.openai import OpenAIBackend
from mellea.core.errors import BackendUnavailableError
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer, Reply

FAST_RETRY = RetryPolicy(max_retries=2, backoff_initial=0.01, backoff_max=0.02)
PATH = "/v1/chat/completions"


@pytest.fixture
def trio() -> Iterator[list[LoopbackServer]]:
    servers = [LoopbackServer().start() for _ in range(3)]
    try:
        yield servers
    finally:
        for srv in servers:
            srv.stop()


def session(urls: list[str], **kw: object) -> MelleaSession:
    kw.setdefault("retry", FAST_RETRY)
    return MelleaSession(OpenAIBackend("m", base_url=urls, **kw))  # type: ignore[arg-type]


def served(srv: LoopbackServer) -> int:
    return len(srv.stats(include_requests=True).for_path(PATH))


async def test_concurrent_requests_spread_evenly(trio: list[LoopbackServer]) -> None:
    for srv in trio:
        srv.configure(ttft=0.2)
    m = session([s.openai_base_url for s in trio])
    t0 = time.perf_counter()
    thunks = [await m.ainstruct(f"q{i}") for i in range(30)]
    values = await asyncio.gather(*(t.avalue() for t in thunks))
    assert values == [f"Echo: q{i}" for i in range(30)]
    assert time.perf_counter() - t0 < 1.5
    assert [served(s) for s in trio] == [10, 10, 10]
    assert {t.generation.extra["replica"] for t in thunks} == {s.openai_base_url for s in trio}
    assert m.backend._http.busy() == [0, 0, 0]  # type: ignore[attr-defined]


async def test_a_slow_replica_gets_less_work(trio: list[LoopbackServer]) -> None:
    slow, fast = trio[0], trio[1]
    slow.configure(ttft=0.6)
    m = session([slow.openai_base_url, fast.openai_base_url])
    parked = await m.ainstruct("slow one")  # round-robin start: the slow replica
    for i in range(6):  # one at a time: the idle fast replica always wins
        assert (await m.ainstruct(f"q{i}", await_result=True)).value == f"Echo: q{i}"
    await parked.avalue()
    assert (served(slow), served(fast)) == (1, 6)


async def test_failover_when_a_replica_is_down(
    trio: list[LoopbackServer], mellea_logs: pytest.LogCaptureFixture
) -> None:
    down, up = trio[0], trio[1]
    urls = [down.openai_base_url, up.openai_base_url]
    down.stop()
    m = session(urls, retry=RetryPolicy(max_retries=2, backoff_initial=1.0))
    t0 = time.perf_counter()
    thunks = [await m.ainstruct(f"q{i}", model_options={ModelOption.STREAM: i % 2 == 0}) for i in range(8)]  # fmt: skip
    assert [await t.avalue() for t in thunks] == [f"Echo: q{i}" for i in range(8)]
    assert time.perf_counter() - t0 < 0.9  # failed over at once, no backoff
    assert served(up) == 8
    assert all(t.generation.extra["replica"] == up.openai_base_url for t in thunks)
    assert "failing over" in mellea_logs.text
    # The dead replica sits out its cooldown: later calls do not knock on it again.
    mellea_logs.clear()
    for i in range(4):
        await m.ainstruct(f"later{i}", await_result=True)
    assert "failing over" not in mellea_logs.text


async def test_a_recovered_replica_is_used_again(trio: list[LoopbackServer]) -> None:
    a, b = trio[0], trio[1]
    backend = OpenAIBackend("m", base_url=[a.openai_base_url, b.openai_base_url], retry=FAST_RETRY)
    backend._http.cooldown = 0.2  # type: ignore[attr-defined]
    m = MelleaSession(backend)
    port = a.port
    a.stop()
    await m.ainstruct("while down", await_result=True)
    restarted = LoopbackServer(port=port).start()
    try:
        await asyncio.sleep(0.3)
        for i in range(4):
            await m.ainstruct(f"q{i}", await_result=True)
        assert served(restarted) >= 1
    finally:
        restarted.stop()


def test_all_replicas_down_is_a_typed_error() -> None:
    m = session(["http://127.0.0.1:9/v1", "http://127.0.0.1:7/v1"])
    t0 = time.perf_counter()
    with pytest.raises(BackendUnavailableError):
        m.instruct("x")
    assert time.perf_counter() - t0 < 2


def test_status_errors_retry_on_another_replica(trio: list[LoopbackServer]) -> None:
    a, b = trio[0], trio[1]
    a.enqueue(Reply(status=503, error_body="draining"))
    m = session([a.openai_base_url, b.openai_base_url])
    mot = m.instruct("x")
    assert mot.value == "Echo: x" and mot.generation.attempts == 2
    assert mot.generation.extra["replica"] == b.openai_base_url


def test_replicas_from_the_environment(
    trio: list[LoopbackServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", ",".join(s.openai_base_url for s in trio))
    m = MelleaSession(OpenAIBackend("m"))
    for i in range(6):
        m.instruct(f"q{i}")
    assert [served(s) for s in trio] == [2, 2, 2]
