"""Plain data types shared by the loopback server and its handle.

Everything here is JSON-serialisable so that the handle can drive a server
running in another thread *or* another process through the same control API.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

FinishReason = Literal["stop", "length", "tool_calls"]
ReplyKind = Literal["default", "scripted", "meta"]


@dataclass
class Reply:
    """One scripted reply (or fault) served by the loopback server.

    Content: ``text`` (split into word tokens like the default echo) or ``chunks``
    (exact streaming chunks). With neither, the default content is used, so a
    reply may carry only timing overrides or a fault.

    Matching: a reply with ``match`` is only consumed by a request whose last user
    message (or, failing that, any message) contains the substring. Other requests
    take the first reply without ``match`` in FIFO order, else the default reply.
    ``times`` is how many requests it serves (``-1`` = unlimited).

    ``usage`` overrides the counted ``prompt_tokens`` / ``completion_tokens``; its other
    keys (e.g. OpenAI's ``prompt_tokens_details``) are sent as they are on the OpenAI wire.

    Faults (chunk counts count content events: one per token / tool-call piece;
    the OpenAI role preamble and the final/usage events are not counted):

    * ``status`` (+ ``error_body``: message string or full JSON body) -> an error
      response in the protocol's own shape, with ``headers`` (e.g. Retry-After).
    * ``stall_before_headers``: accept the request, send nothing for N seconds.
    * ``stall_after_chunks=[n, s]``: send n chunks, then go silent for s seconds.
    * ``drop_after_chunks=n``: send n chunks, then abort the TCP connection.
    * ``malformed_after_chunks=n``: after n chunks send one invalid line, continue.
    * ``kill_after_chunks=n``: subprocess mode: the server process ``os._exit(3)``s
      after n chunks. Thread mode: all client connections are aborted instead.
    * ``reject_json_schema``: answer an OpenAI ``response_format`` of type
      ``json_schema`` with HTTP 500 like llama.cpp's server does.

    For non-streaming requests the ``*_after_chunks`` faults act on the single
    body: headers and the first half of the body are sent, then the fault acts
    (``malformed`` sends a truncated body with a matching Content-Length).
    """

    text: str | None = None
    chunks: list[str] | None = None
    match: str | None = None
    times: int = 1
    ttft: float | None = None
    token_delay: float | None = None
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    status: int | None = None
    error_body: str | dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    stall_before_headers: float | None = None
    stall_after_chunks: tuple[int, float] | None = None
    drop_after_chunks: int | None = None
    malformed_after_chunks: int | None = None
    kill_after_chunks: int | None = None
    reject_json_schema: bool = False

    def __post_init__(self) -> None:
        if self.text is not None and self.chunks is not None:
            raise ValueError("Reply: give either text or chunks, not both")
        if self.times == 0 or self.times < -1:
            raise ValueError("Reply.times must be >= 1, or -1 for unlimited")
        if self.stall_after_chunks is not None:
            n, seconds = self.stall_after_chunks
            self.stall_after_chunks = (int(n), float(seconds))
        for call in self.tool_calls or ():
            if not isinstance(call.get("name"), str):
                raise ValueError("Reply.tool_calls items need a 'name' string")

    @property
    def has_stream_fault(self) -> bool:
        return (
            self.stall_after_chunks is not None
            or self.drop_after_chunks is not None
            or self.malformed_after_chunks is not None
            or self.kill_after_chunks is not None
        )

    def to_json(self) -> dict[str, Any]:
        """Only the fields that differ from their defaults."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value != f.default:
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"Reply: unknown fields {sorted(unknown)}")
        return cls(**data)


@dataclass
class RequestRecord:
    """One request as the server saw it (``/_control/*`` calls are excluded).

    Times are ``time.monotonic()`` seconds (CLOCK_MONOTONIC, so comparable with
    the test process's clock in subprocess mode too). ``headers`` keys are
    lower-cased. ``first_byte`` is when the first response byte was written.
    ``reply_kind`` is "default", "scripted", or "meta" (non-generation endpoints
    such as /api/tags, and 404s). ``events_sent`` counts the content events a
    streaming response wrote (a client that disconnects early stops it).
    """

    method: str
    path: str
    body: Any
    headers: dict[str, str]
    started: float
    connection_id: int
    first_byte: float | None = None
    finished: float | None = None
    status: int | None = None
    client_disconnected: bool = False
    reply_kind: ReplyKind = "meta"
    events_sent: int = 0
    """Content events (tokens, tool-call pieces) the response carried: a streaming one
    counts those written before it ended or the client left; a whole body, all of them."""

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "body": self.body,
            "headers": self.headers,
            "started": self.started,
            "connection_id": self.connection_id,
            "first_byte": self.first_byte,
            "finished": self.finished,
            "status": self.status,
            "client_disconnected": self.client_disconnected,
            "reply_kind": self.reply_kind,
            "events_sent": self.events_sent,
        }


@dataclass
class Stats:
    """Snapshot of the server's counters (see ``LoopbackServer.stats``).

    ``in_flight``/``open_connections`` are gauges; the ``max_*`` values are peaks
    since the last reset. ``open_connections`` counts client connections that
    sent at least one non-control request. ``cpu_seconds`` is the serving
    process's ``time.process_time()`` (the whole test process in thread mode).
    """

    total_requests: int
    in_flight: int
    max_in_flight: int
    open_connections: int
    max_open_connections: int
    total_connections: int
    disconnects: int
    pending_replies: int
    cpu_seconds: float
    requests: list[RequestRecord] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Stats:
        fields = dict(data)
        fields["requests"] = [RequestRecord(**r) for r in data.get("requests", [])]
        return cls(**fields)

    def for_path(self, path: str) -> list[RequestRecord]:
        return [r for r in self.requests if r.path == path]

    def where(self, predicate: Callable[[RequestRecord], bool]) -> list[RequestRecord]:
        return [r for r in self.requests if predicate(r)]


@dataclass
class Settings:
    """Server-wide defaults, changed with ``LoopbackServer.configure``."""

    ttft: float = 0.0
    token_delay: float = 0.0
    tokens: int | None = None
    reject_json_schema: bool = False
    record_requests: bool = True
    models: list[str] = field(default_factory=lambda: ["loopback"])
    strict_models: bool = False
    """True: Ollama's `/api/show` answers 404 for a model not in `models` (as an Ollama
    without that model pulled does); False: every name is known."""
    vllm_version: str | None = None
    """Served at vLLM's `GET /version` as `{"version": ...}`; None answers 404 there."""

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def updated(self, changes: dict[str, Any]) -> Settings:
        known = {f.name for f in dataclasses.fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"configure: unknown settings {sorted(unknown)}")
        new = dataclasses.replace(self, **changes)
        if new.tokens is not None and new.tokens < 0:
            raise ValueError("tokens must be >= 0")
        if new.ttft < 0 or new.token_delay < 0:
            raise ValueError("delays must be >= 0")
        new.models = list(new.models)
        return new
