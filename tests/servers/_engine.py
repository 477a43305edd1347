"""Protocol-independent generation: choosing the reply, timing, and faults.

A protocol module turns its request body into a ``GenRequest``; the application
turns that into a ``Plan`` (tokens, tool calls, finish reason, delays, fault
script) and an ``Adapter`` renders the plan in the protocol's wire format while
``serve_generation`` paces it onto the connection.
"""

from __future__ import annotations

import asyncio
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._http import JSON_TYPE, HttpConnection
from ._model import Reply, ReplyKind
from ._text import dump_json, json_instance, numbered_tokens, tokenize_json, tokenize_words

LLAMA_CPP_JSON_SCHEMA_ERROR = (
    'response_format type must be one of "text" or "json_object", but got: json_schema'
)


@dataclass
class GenRequest:
    """What the reply depends on, extracted from either protocol's request."""

    model: str
    last_user: str
    texts: list[str]
    stream: bool
    json_schema: Any = None  # None: plain text; {}: bare JSON mode; else a schema
    wants_json: bool = False
    openai_json_schema: bool = False  # response_format.type == "json_schema"
    max_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    include_usage: bool = False

    @property
    def prompt_tokens(self) -> int:
        """Deterministic prompt size: whitespace-separated words in all messages."""
        return max(1, sum(len(t.split()) for t in self.texts))


@dataclass
class Plan:
    kind: ReplyKind
    reply: Reply | None
    tokens: list[str]
    tool_calls: list[dict[str, Any]]
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    ttft: float
    token_delay: float
    error: tuple[int, str | dict[str, Any]] | None = None

    @property
    def text(self) -> str:
        return "".join(self.tokens)


def default_tokens(req: GenRequest, tokens_setting: int | None) -> list[str]:
    """JSON instance if JSON was requested, else ``tokens=N``, else the echo."""
    if req.wants_json:
        value = json_instance(req.json_schema) if req.json_schema else {}
        return tokenize_json(dump_json(value))
    if tokens_setting is not None:
        return numbered_tokens(tokens_setting)
    return tokenize_words("Echo: " + req.last_user)


def limit_tokens(
    tokens: list[str], max_tokens: int | None, stop: list[str], finish: str
) -> tuple[list[str], str]:
    """Cut before the first ``stop`` string ("stop"), then at ``max_tokens`` ("length")."""
    full = "".join(tokens)
    cut = len(full) + 1  # past the end: no stop string matched
    for s in stop:
        idx = full.find(s) if s else -1
        if 0 <= idx < cut:
            cut = idx
    out: list[str] = []
    pos = 0
    for tok in tokens:
        if pos >= cut:
            return out, "stop"
        if max_tokens is not None and len(out) >= max_tokens:
            return out, "length"
        end = pos + len(tok)
        if end > cut:
            out.append(tok[: cut - pos])
            return out, "stop"
        out.append(tok)
        pos = end
    return out, finish


def make_plan(
    req: GenRequest,
    reply: Reply | None,
    *,
    ttft: float,
    token_delay: float,
    tokens_setting: int | None,
    reject_json_schema: bool,
    tool_finish: str,
) -> Plan:
    kind: ReplyKind = "default" if reply is None else "scripted"
    if reply is not None:
        ttft = reply.ttft if reply.ttft is not None else ttft
        token_delay = reply.token_delay if reply.token_delay is not None else token_delay
    plan = Plan(kind, reply, [], [], "stop", req.prompt_tokens, 0, ttft, token_delay)
    if reply is not None and reply.status is not None:
        plan.error = (reply.status, reply.error_body or "")
        return plan
    if req.openai_json_schema and (reject_json_schema or (reply and reply.reject_json_schema)):
        plan.error = (500, LLAMA_CPP_JSON_SCHEMA_ERROR)
        return plan

    tool_calls = list(reply.tool_calls or ()) if reply is not None else []
    if reply is not None and reply.chunks is not None:
        tokens = list(reply.chunks)
    elif reply is not None and reply.text is not None:
        tokens = tokenize_words(reply.text)
    elif tool_calls:
        tokens = []
    else:
        tokens = default_tokens(req, tokens_setting)
    finish = tool_finish if tool_calls else "stop"
    tokens, finish = limit_tokens(tokens, req.max_tokens, req.stop, finish)
    if reply is not None and reply.finish_reason is not None:
        finish = reply.finish_reason
    plan.tokens = tokens
    plan.tool_calls = tool_calls
    plan.finish_reason = finish
    plan.completion_tokens = len(tokens) + len(tool_calls)
    if reply is not None and reply.usage:
        plan.prompt_tokens = int(reply.usage.get("prompt_tokens", plan.prompt_tokens))
        plan.completion_tokens = int(reply.usage.get("completion_tokens", plan.completion_tokens))
    return plan


@dataclass
class Timing:
    started: float
    first_event: float | None = None
    events_sent: int = 0  # content events (tokens / tool-call pieces) written so far

    def ns(self) -> tuple[int, int, int]:
        """(total, prompt_eval, eval) durations in nanoseconds, each >= 1."""
        now = time.monotonic()
        first = self.first_event if self.first_event is not None else now
        total = max(1, int((now - self.started) * 1e9))
        prompt = max(1, int((first - self.started) * 1e9))
        return total, prompt, max(1, total - prompt)


class Adapter(ABC):
    """Renders a plan in one wire protocol."""

    stream_content_type: str

    def __init__(self, plan: Plan, req: GenRequest, seq: int) -> None:
        self.plan = plan
        self.req = req
        self.seq = seq

    @abstractmethod
    def error_body(self, status: int, error: str | dict[str, Any]) -> bytes: ...

    def preamble(self) -> list[bytes]:
        """Stream events sent with the headers, before the first counted chunk."""
        return []

    @abstractmethod
    def n_events(self) -> int: ...

    @abstractmethod
    def event(self, i: int, timing: Timing) -> bytes:
        """The i-th counted stream event (content token or tool-call piece)."""

    @abstractmethod
    def epilogue(self, timing: Timing) -> list[bytes]: ...

    @abstractmethod
    def malformed_event(self) -> bytes: ...

    @abstractmethod
    def full_body(self, timing: Timing) -> bytes: ...


class Aborted(Exception):
    """The fault script aborted the connection."""


class _Faults:
    def __init__(
        self,
        reply: Reply,
        conn: HttpConnection,
        adapter: Adapter,
        total: int,
        kill: Callable[[HttpConnection], None],
    ) -> None:
        self.reply = reply
        self.conn = conn
        self.adapter = adapter
        self.total = total
        self.kill = kill

    def _due(self, n: int | None, sent: int) -> bool:
        return n is not None and (n == sent or (sent >= self.total and n > sent))

    async def at(self, sent: int) -> None:
        """Run the faults scheduled after ``sent`` counted chunks."""
        r = self.reply
        if self._due(r.malformed_after_chunks, sent):
            self.conn.chunk(self.adapter.malformed_event())
        if r.stall_after_chunks is not None and self._due(r.stall_after_chunks[0], sent):
            await self.conn.drain()
            await asyncio.sleep(r.stall_after_chunks[1])
        if self._due(r.kill_after_chunks, sent):
            self.conn.flush()
            self.kill(self.conn)
            raise Aborted()
        if self._due(r.drop_after_chunks, sent):
            self.conn.flush()
            self.conn.abort()
            raise Aborted()


def kill_process(conn: HttpConnection) -> None:
    """Subprocess mode: die like a crashed server (no cleanup, no final bytes)."""
    os._exit(3)


async def serve_generation(
    conn: HttpConnection,
    adapter: Adapter,
    timing: Timing,
    kill: Callable[[HttpConnection], None],
) -> None:
    plan = adapter.plan
    reply = plan.reply
    headers = list(reply.headers.items()) if reply is not None and reply.headers else []
    if reply is not None and reply.stall_before_headers:
        await asyncio.sleep(reply.stall_before_headers)
    if plan.error is not None:
        status, error = plan.error
        if reply is not None and reply.ttft:  # errors skip the server-wide ttft
            await asyncio.sleep(reply.ttft)
        conn.send(status, adapter.error_body(status, error), JSON_TYPE, headers)
        return
    n = adapter.n_events()
    faults = None
    if reply is not None and reply.has_stream_fault:
        faults = _Faults(reply, conn, adapter, n, kill)
    try:
        if adapter.req.stream:
            await _stream(conn, adapter, timing, headers, faults, n)
        else:
            await _whole(conn, adapter, timing, headers, faults)
    except Aborted:
        return


async def _stream(
    conn: HttpConnection,
    adapter: Adapter,
    timing: Timing,
    headers: list[tuple[str, str]],
    faults: _Faults | None,
    n: int,
) -> None:
    plan = adapter.plan
    if plan.ttft > 0:
        await asyncio.sleep(plan.ttft)
    timing.first_event = time.monotonic()
    conn.start_chunked(200, adapter.stream_content_type, headers)
    for data in adapter.preamble():
        conn.chunk(data)
    if faults is not None:
        await faults.at(0)
    delay = plan.token_delay
    loop = asyncio.get_running_loop()
    start = loop.time()
    for i in range(n):
        if i and delay > 0:
            await conn.drain()
            # Token i is due at start + i*delay: sleeping relative to the schedule keeps
            # each sleep's overshoot from accumulating (benchmarks compare to i*delay).
            await asyncio.sleep(max(0.0, start + i * delay - loop.time()))
        conn.chunk(adapter.event(i, timing))
        timing.events_sent = i + 1
        if faults is not None:
            await faults.at(i + 1)
        elif i % 64 == 63:
            await conn.drain()
    for data in adapter.epilogue(timing):
        conn.chunk(data)
    conn.end_chunked()
    conn.flush()


async def _whole(
    conn: HttpConnection,
    adapter: Adapter,
    timing: Timing,
    headers: list[tuple[str, str]],
    faults: _Faults | None,
) -> None:
    plan = adapter.plan
    generation = len(plan.tokens) * plan.token_delay
    if plan.ttft + generation > 0:
        await asyncio.sleep(plan.ttft + generation)
    timing.first_event = time.monotonic() - generation
    timing.events_sent = adapter.n_events()  # a whole body carries every token at once
    body = adapter.full_body(timing)
    if faults is None:
        conn.send(200, body, JSON_TYPE, headers)
        return
    r = faults.reply
    if r.malformed_after_chunks is not None:
        body = body[: len(body) // 2]
    conn.start_fixed(200, len(body), JSON_TYPE, headers)
    half = len(body) // 2
    conn.write_raw(body[:half])
    conn.flush()
    if r.stall_after_chunks is not None:
        await asyncio.sleep(r.stall_after_chunks[1])
    if r.kill_after_chunks is not None:
        faults.kill(conn)
        raise Aborted()
    if r.drop_after_chunks is not None:
        conn.abort()
        raise Aborted()
    conn.write_raw(body[half:], done=True)
    conn.flush()
