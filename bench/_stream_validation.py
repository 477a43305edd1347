"""Section 9: streaming validation — early exit, and the incremental partial-JSON parser.

Early exit: the loopback server (a subprocess) scripts a 40-sentence answer whose 5th
sentence violates a requirement, then a clean one. `ainstruct` with a requirement that
checks each sentence while it streams (`stream_validate`) is compared with the same
check run after the attempt completed (`validation_fn`): tokens the server generated
until the validated answer (its `events_sent`), how far the failing attempt got, and
wall time.

Parser: a 20 KB JSON document arriving in 500 chunks (and 100 KB in 2,500, to show the
growth): the cost per chunk of our incremental parser (plain values, and typed partial
pydantic instances) against re-parsing the prefix on every chunk with jiter's and
pydantic's partial modes; `ijson`'s push parser (incremental in C, but it shows a string
only once complete) for information when installed.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, TypeAdapter

from mellea.backends.ollama import OllamaModelBackend
from mellea.core.backend import Backend
from mellea.core.context import Context
from mellea.core.requirement import PartialValidationResult, Requirement
from mellea.stdlib.context import SimpleContext
from mellea.stdlib.requirements import req, simple_validate
from mellea.stdlib.sampling import RejectionSamplingStrategy
from mellea.stdlib.session import MelleaSession
from mellea.stdlib.streaming import IncrementalJSONParser, PartialModelParser
from tests.servers import LoopbackServer, Reply

from ._report import Goal, Row

SECTION = "9 stream validation"
DELAY = 0.002
SENTENCES = [f"Sentence {i} of this answer reads plain and fine." for i in range(1, 41)]
BAD = " ".join(s.replace("plain", "forbidden") if i == 4 else s for i, s in enumerate(SENTENCES))
GOOD = " ".join(SENTENCES)
TOKENS = len(GOOD.split())  # 360: one word per token on the loopback server
TO_VIOLATION = len(" ".join(SENTENCES[:5]).split())  # the 5th sentence ends at token 45


def _clean(text: str) -> bool:
    return "forbidden" not in text


class NoForbiddenSentence(Requirement):
    """Checks each sentence as it completes (and the whole text at the end, in code)."""

    def __init__(self) -> None:
        check = simple_validate(_clean)
        super().__init__("Never say forbidden.", validation_fn=check, chunking="sentence")

    async def stream_validate(
        self, chunk: str, *, backend: Backend, ctx: Context
    ) -> PartialValidationResult:
        bad = "forbidden" in chunk
        return PartialValidationResult("fail" if bad else "unknown", reason="forbidden")


def _after_completion() -> Requirement:
    return req("Never say forbidden.", simple_validate(_clean))


async def _one(srv: LoopbackServer, requirement: Requirement) -> tuple[int, int, float]:
    """(tokens the server sent, tokens of the failing attempt, seconds to the answer)."""
    srv.reset()
    srv.enqueue(Reply(text=BAD), Reply(text=GOOD))
    m = MelleaSession(OllamaModelBackend("m", base_url=srv.url), SimpleContext())
    try:
        t0 = time.perf_counter()
        mot = await m.ainstruct(
            "Write forty sentences.", requirements=[requirement],
            strategy=RejectionSamplingStrategy(loop_budget=2),
        )  # fmt: skip
        answer = await mot.avalue()
        seconds = time.perf_counter() - t0
    finally:
        await m.aclose()
    if answer != GOOD:
        raise AssertionError(f"the loop returned the wrong answer: {answer[:60]!r}")
    chats = srv.wait_idle().for_path("/api/chat")
    return sum(r.events_sent for r in chats), chats[0].events_sent, seconds


async def _early_exit(srv: LoopbackServer, runs: int = 3) -> list[Row]:
    streaming: list[tuple[int, int, float]] = []
    after: list[tuple[int, int, float]] = []
    await _one(srv, NoForbiddenSentence())  # warm-up: imports, connections
    await _one(srv, _after_completion())
    for _ in range(runs):  # interleaved
        streaming.append(await _one(srv, NoForbiddenSentence()))
        after.append(await _one(srv, _after_completion()))

    def med(samples: list[tuple[int, int, float]], i: int) -> float:
        return statistics.median(s[i] for s in samples)

    return [
        Row(SECTION, "tokens generated until the validated answer, streaming validation vs "
            "validate-after-completion (violation in sentence 5 of 40, then a clean retry)",
            med(streaming, 0), med(after, 0), "tokens"),
        Row(SECTION, f"failing attempt: tokens generated before it stopped, vs its length "
            f"(the violating sentence ends at token {TO_VIOLATION})",
            med(streaming, 1), TOKENS, "tokens", Goal("<=", 0.15)),
        Row(SECTION, f"wall time until the validated answer, streaming validation vs "
            f"validate-after-completion ({DELAY * 1e3:g} ms per token)",
            med(streaming, 2) * 1e3, med(after, 2) * 1e3, "ms"),
    ]  # fmt: skip


# ----- the parser ----------------------------------------------------------------------


class Item(BaseModel):
    id: int
    name: str
    tags: list[str]
    score: float
    ok: bool


class Catalog(BaseModel):
    title: str
    items: list[Item]


def _document(size: int) -> str:
    items, text = [], ""
    while len(text) < size:
        i = len(items)
        items.append({"id": i, "name": f"item \u00e9 {i} \"q\"", "tags": ["a", "b c"],
                      "score": i * 1.5, "ok": i % 2 == 0})  # fmt: skip
        text = json.dumps({"title": "catalog", "items": items})
    return text


def _chunks(text: str, n: int) -> list[str]:
    size = -(-len(text) // n)
    return [text[i : i + size] for i in range(0, len(text), size)]


def _per_chunk(fn: Callable[[list[str]], Any], chunks: list[str], repeat: int) -> float:
    """Median seconds per chunk over `repeat` runs of `fn` over the whole stream."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(chunks)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) / len(chunks)


def _ours_plain(chunks: list[str]) -> Any:
    parser = IncrementalJSONParser()
    for chunk in chunks:
        parser.feed(chunk)
        _ = parser.value
    return parser.close()


def _ours_typed(chunks: list[str]) -> Any:
    parser = PartialModelParser(Catalog)
    for chunk in chunks:
        parser.feed(chunk)
        _ = parser.value
    return parser.value


def _reparse_jiter(chunks: list[str]) -> Any:
    import jiter

    prefix, value = "", None
    for chunk in chunks:
        prefix += chunk
        value = jiter.from_json(prefix.encode(), partial_mode="trailing-strings")
    return value


class _LenientItem(BaseModel):  # pydantic's partial mode needs defaults on every field
    id: int = 0
    name: str = ""
    tags: list[str] = []
    score: float = 0.0
    ok: bool = False


class _LenientCatalog(BaseModel):
    title: str = ""
    items: list[_LenientItem] = []


_CATALOG = TypeAdapter(_LenientCatalog)


def _reparse_pydantic(chunks: list[str]) -> Any:
    prefix, value = "", None
    for chunk in chunks:
        prefix += chunk
        value = _CATALOG.validate_json(prefix, experimental_allow_partial="trailing-strings")
    return value


def _ijson_push(chunks: list[str]) -> Any:
    import ijson

    events = ijson.utils.sendable_list()
    coro = ijson.basic_parse_coro(events)
    for chunk in chunks:
        coro.send(chunk.encode())
        events.clear()
    coro.close()


def _parser_rows() -> list[Row]:
    rows: list[Row] = []
    ours_at: dict[int, float] = {}
    for size, n, repeat in ((20_000, 500, 7), (100_000, 2_500, 1)):
        text = _document(size)
        chunks = _chunks(text, n)
        assert _ours_plain(chunks) == json.loads(text)
        label = f"{len(text) // 1000} KB in {len(chunks)} chunks"
        us = 1e6
        plain = _per_chunk(_ours_plain, chunks, repeat)
        typed = _per_chunk(_ours_typed, chunks, repeat)
        ours_at[size] = plain
        if importlib.util.find_spec("jiter") is not None:
            rows.append(Row(SECTION, f"partial JSON, {label}: incremental parser vs jiter "
                            "re-parsing the prefix (partial_mode), per chunk",
                            plain * us, _per_chunk(_reparse_jiter, chunks, repeat) * us, "µs",
                            Goal("<=", 1.0) if size == 20_000 else None))  # fmt: skip
        if size == 20_000:  # (pydantic's re-parse of 100 KB prefixes takes minutes)
            rows.append(Row(SECTION, f"typed partial objects, {label}: incremental vs pydantic "
                            "validate_json(experimental_allow_partial; all fields defaulted) "
                            "of the prefix, per chunk",
                            typed * us, _per_chunk(_reparse_pydantic, chunks, repeat) * us, "µs",
                            Goal("<=", 1.0)))  # fmt: skip
        if importlib.util.find_spec("ijson") is not None:
            rows.append(Row(SECTION, f"partial JSON, {label}: incremental parser vs ijson's "
                            "push parser (C; shows no partial strings), per chunk",
                            plain * us, _per_chunk(_ijson_push, chunks, repeat) * us, "µs"))  # fmt: skip
    rows.append(Row(SECTION, "incremental parser cost per chunk, 100 KB document vs 20 KB "
                    "(work proportional to the new bytes: flat)",
                    ours_at[100_000] * 1e6, ours_at[20_000] * 1e6, "µs", Goal("<=", 1.5)))  # fmt: skip
    return rows


def run() -> list[Row]:
    srv = LoopbackServer(token_delay=DELAY).spawn()
    try:
        rows = asyncio.run(_early_exit(srv))
    finally:
        srv.stop()
    return rows + _parser_rows()
