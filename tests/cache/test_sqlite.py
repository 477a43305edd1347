"""SQLiteStore: persistence, TTL, LRU size limit, several processes, and damage tolerance."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from mellea.backends import ModelOption
from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.response_cache import CachedBackend, CachedResponse, SQLiteStore
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer

GREEDY = {ModelOption.TEMPERATURE: 0}


def _response(text: str, n: int = 1) -> CachedResponse:
    return CachedResponse(chunks=(text,) * n, offsets_ms=tuple(float(i) for i in range(n)),
                          usage={"prompt_tokens": 1, "completion_tokens": n, "total_tokens": 1 + n},
                          finish_reasons=["stop"], extra={"thinking": "hmm"})  # fmt: skip


async def test_responses_persist_across_stores_and_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "cache.db"
    first = SQLiteStore(path)
    original = _response("abc", 3)
    await first.put("k", original)
    await first.aclose()
    second = SQLiteStore(path)
    assert await second.get("k") == original
    assert await second.get("other") is None
    await second.aclose()
    assert await second.get("k") is None  # closed: a miss, not an error


async def test_a_session_reuses_answers_across_lifetimes(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    path = tmp_path / "cache.db"
    for expected in ("miss", "hit"):
        store = SQLiteStore(path)
        backend = CachedBackend(OllamaModelBackend("m", base_url=loopback.url), store)
        mot = await MelleaSession(backend).ainstruct("persist me", model_options=GREEDY)
        await mot.avalue()
        assert mot.generation.extra["cache"] == expected
        await store.aclose()  # the answer was queued for the store before the thunk resolved
    assert len(loopback.stats().for_path("/api/chat")) == 1


async def test_entries_expire_after_the_ttl(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "c.db", ttl=1.0)
    await store.put("k", _response("x"))
    assert await store.get("k") is not None
    await asyncio.sleep(1.1)
    assert await store.get("k") is None
    await store.aclose()


async def test_the_size_limit_evicts_the_least_recently_used(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "c.db", max_bytes=10_000)
    for i in range(5):
        await store.put(f"k{i}", _response("x" * 1500))
        await asyncio.sleep(0.01)  # distinct timestamps
    assert await store.get("k0") is not None  # now the most recently used
    await store.put("k5", _response("x" * 1500))  # the touch is written with this put
    for i in range(6, 9):
        await asyncio.sleep(0.01)
        await store.put(f"k{i}", _response("x" * 1500))
    kept = [k for k in (f"k{i}" for i in range(9)) if await store.get(k) is not None]
    assert "k0" in kept and "k1" not in kept and "k8" in kept
    await store.aclose()
    db = sqlite3.connect(tmp_path / "c.db")
    (total,) = db.execute("SELECT bytes FROM totals").fetchone()
    (actual,) = db.execute("SELECT total(size) FROM responses").fetchone()
    db.close()
    assert total == actual <= 10_000


def _worker(path: str, worker: int, n: int) -> int:
    """Write n entries of its own, read every other worker's; returns the hits it saw."""

    async def run() -> int:
        store = SQLiteStore(path, busy_timeout=5)
        hits = 0
        for i in range(n):
            await store.put(f"w{worker}-{i}", _response(f"{worker}:{i}", 4))
            for other in range(4):
                got = await store.get(f"w{other}-{i}")
                if got is not None:
                    assert got.text == f"{other}:{i}" * 4  # never a wrong answer
                    hits += 1
        await store.aclose()
        return hits

    return asyncio.run(run())


def test_several_processes_share_one_database(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        hits = pool.starmap(_worker, [(path, w, 40) for w in range(4)])
    assert all(h >= 40 for h in hits)  # at least its own entries, in every process

    async def check() -> None:
        store = SQLiteStore(path)
        for w in range(4):
            for i in range(40):
                got = await store.get(f"w{w}-{i}")
                assert got is not None and got.text == f"{w}:{i}" * 4
        assert store.failures == 0
        await store.aclose()

    asyncio.run(check())


def test_a_corrupt_database_is_a_miss_with_one_warning(
    loopback: LoopbackServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "broken.db"
    path.write_bytes(b"this is not a database" * 100)
    caplog.set_level(logging.DEBUG, logger="mellea")
    backend = CachedBackend(OllamaModelBackend("m", base_url=loopback.url), SQLiteStore(path))
    m = MelleaSession(backend)
    for prompt in ("still", "works", "fine"):
        mot = m.instruct(prompt, model_options=GREEDY)
        assert mot.value == f"Echo: {prompt}" and mot.generation.extra["cache"] == "miss"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "broken.db" in warnings[0].getMessage()


async def test_a_damaged_row_is_a_miss_never_a_wrong_answer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "c.db"
    store = SQLiteStore(path)
    await store.put("k", _response("the right answer"))
    await store.aclose()
    db = sqlite3.connect(path)
    db.execute("UPDATE responses SET body = replace(body, 'right', 'wrong')")
    db.commit()
    db.close()
    store = SQLiteStore(path)
    with caplog.at_level(logging.WARNING, logger="mellea"):
        assert await store.get("k") is None
    assert "checksum" in caplog.text
    await store.put("k", _response("fresh"))
    assert (await store.get("k")) is not None
    await store.aclose()


async def test_a_locked_database_degrades_to_a_miss(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    store = SQLiteStore(path, busy_timeout=0.1)
    await store.put("k", _response("x"))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
    try:
        t0 = time.perf_counter()
        await store.put("k2", _response("y"))  # gives up after busy_timeout: no error
        assert store.failures == 1 and time.perf_counter() - t0 < 2
        assert await store.get("k2") is None
        assert await store.get("k") is not None  # WAL: reading does not wait for writers
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    await store.put("k3", _response("z"))
    assert await store.get("k3") is not None  # usable again once the lock is gone
    await store.aclose()


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        SQLiteStore("x.db", max_bytes=0)
    with pytest.raises(TypeError):
        CachedBackend(object())  # type: ignore[arg-type]
    store: Any = SQLiteStore("never-created.db")
    assert not Path("never-created.db").exists() and store.path.name == "never-created.db"
