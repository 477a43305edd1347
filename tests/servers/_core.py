"""The loopback application: routing, reply queue, statistics, control API.

Runs entirely on one event loop (a thread of the test process, or a
subprocess); the handle talks to it only through ``/_control/*`` endpoints, so
no locking is needed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from . import _completions, _ollama, _openai
from ._engine import GenRequest, Plan, Timing, kill_process, make_plan
from ._http import HttpConnection, HttpServer, Request
from ._model import Reply, RequestRecord, Settings


@dataclass(slots=True)
class Ctx:
    """One non-control request being served."""

    req: Request
    conn: HttpConnection
    record: RequestRecord
    body: Any
    body_error: str | None
    timing: Timing


Route = Callable[["LoopbackApp", Ctx], Awaitable[None]]


class _Queued:
    __slots__ = ("remaining", "reply")

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.remaining = reply.times


class LoopbackApp:
    def __init__(self, settings: Settings, *, subprocess_mode: bool = False) -> None:
        self.baseline = settings.updated({})
        self.settings = settings.updated({})
        self.subprocess_mode = subprocess_mode
        self.http = HttpServer(self.handle)
        self.http.on_close = self._on_close
        self.on_shutdown: Callable[[], None] | None = None
        self.routes: dict[tuple[str, str], Route] = {
            **_ollama.ROUTES,
            **_openai.ROUTES,
            **_completions.ROUTES,
        }
        self.queue: list[_Queued] = []
        self.models_seen: dict[str, None] = {}
        self.seq = 0
        self.in_flight = 0
        self.open_connections = 0
        self._reset_stats()

    def _reset_stats(self) -> None:
        self.total_requests = 0
        self.max_in_flight = self.in_flight
        self.max_open_connections = self.open_connections
        self.total_connections = self.open_connections
        self.disconnects = 0
        self.records: list[RequestRecord] = []

    async def listen(self, host: str, port: int) -> int:
        return await self.http.listen(host, port)

    async def close(self) -> None:
        await self.http.close()

    # -- request entry point -------------------------------------------------

    async def handle(self, req: Request, conn: HttpConnection) -> None:
        if req.path.startswith("/_control/"):
            self._control(req, conn)
            return
        started = time.monotonic()
        if not conn.counted:
            conn.counted = True
            self.open_connections += 1
            self.total_connections += 1
            if self.open_connections > self.max_open_connections:
                self.max_open_connections = self.open_connections
        body: Any = None
        body_error = None
        if req.body:
            try:
                body = json.loads(req.body)
            except ValueError as exc:
                body = req.body.decode("utf-8", "replace")
                body_error = str(exc)
        record = RequestRecord(req.method, req.path, body, req.headers, started, conn.id)
        self.total_requests += 1
        self.in_flight += 1
        if self.in_flight > self.max_in_flight:
            self.max_in_flight = self.in_flight
        if self.settings.record_requests:
            self.records.append(record)
        ctx = Ctx(req, conn, record, body, body_error, Timing(started))
        try:
            route = self.routes.get((req.method, req.path))
            if route is not None:
                await route(self, ctx)
            else:
                self._not_found(req, conn)
        finally:
            self.in_flight -= 1
            record.finished = time.monotonic()
            record.status = conn.status
            record.first_byte = conn.first_byte
            record.events_sent = ctx.timing.events_sent
            if conn.client_gone:
                record.client_disconnected = True
                self.disconnects += 1

    def _not_found(self, req: Request, conn: HttpConnection) -> None:
        known_path = any(path == req.path for _, path in self.routes)
        status = 405 if known_path else 404
        if req.path.startswith("/v1/"):
            conn.send(status, _openai.error_json(status, f"Unknown route {req.path}"))
        else:
            text = b"405 method not allowed" if known_path else b"404 page not found"
            conn.send(status, text, "text/plain")

    def _on_close(self, conn: HttpConnection) -> None:
        if conn.counted:
            self.open_connections -= 1

    # -- used by the protocol modules ----------------------------------------

    def note_model(self, name: str) -> None:
        self.models_seen.setdefault(name, None)

    def model_names(self) -> list[str]:
        return list(dict.fromkeys([*self.settings.models, *self.models_seen]))

    def take_reply(self, req: GenRequest) -> Reply | None:
        """Match replies (last user message, then any message), then FIFO."""
        chosen = None
        for q in self.queue:
            if q.reply.match is not None and q.reply.match in req.last_user:
                chosen = q
                break
        if chosen is None:
            for q in self.queue:
                m = q.reply.match
                if m is not None and any(m in t for t in req.texts):
                    chosen = q
                    break
        if chosen is None:
            for q in self.queue:
                if q.reply.match is None:
                    chosen = q
                    break
        if chosen is None:
            return None
        if chosen.remaining > 0:
            chosen.remaining -= 1
            if chosen.remaining == 0:
                self.queue.remove(chosen)
        return chosen.reply

    def plan(self, req: GenRequest, ctx: Ctx, *, tool_finish: str) -> tuple[Plan, int]:
        self.seq += 1
        reply = self.take_reply(req)
        s = self.settings
        plan = make_plan(
            req,
            reply,
            ttft=s.ttft,
            token_delay=s.token_delay,
            tokens_setting=s.tokens,
            reject_json_schema=s.reject_json_schema,
            tool_finish=tool_finish,
        )
        ctx.record.reply_kind = plan.kind
        return plan, self.seq

    def kill(self, conn: HttpConnection) -> None:
        """``kill_after_chunks``: exit the process, or (thread mode) drop all clients."""
        if self.subprocess_mode:
            kill_process(conn)
        for other in list(self.http.connections):
            if other.counted or other is conn:
                other.abort()

    # -- control API ---------------------------------------------------------

    def stats_json(self, include_requests: bool) -> dict[str, Any]:
        return {
            "total_requests": self.total_requests,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "open_connections": self.open_connections,
            "max_open_connections": self.max_open_connections,
            "total_connections": self.total_connections,
            "disconnects": self.disconnects,
            "pending_replies": len(self.queue),
            "cpu_seconds": time.process_time(),
            "requests": [r.to_json() for r in self.records] if include_requests else [],
        }

    def _control(self, req: Request, conn: HttpConnection) -> None:
        try:
            result = self._control_action(req)
        except (ValueError, TypeError, KeyError) as exc:
            conn.send_json(400, {"error": f"{type(exc).__name__}: {exc}"})
            return
        if result is None:
            conn.send_json(404, {"error": f"unknown control endpoint {req.method} {req.path}"})
        else:
            conn.send_json(200, result)

    def _control_action(self, req: Request) -> dict[str, Any] | None:
        action = (req.method, req.path[len("/_control/") :])
        if action == ("GET", "stats"):
            query = parse_qs(req.query)
            include = query.get("requests", ["1"])[0] not in ("0", "false", "no")
            return self.stats_json(include)
        if action == ("POST", "enqueue"):
            payload = req.json() or {}
            replies = [Reply.from_json(r) for r in payload.get("replies", [])]
            self.queue.extend(_Queued(r) for r in replies)
            return {"pending_replies": len(self.queue)}
        if action == ("POST", "configure"):
            self.settings = self.settings.updated(req.json() or {})
            return self.settings.to_json()
        if action == ("GET", "settings"):
            return self.settings.to_json()
        if action == ("POST", "reset"):
            self.queue.clear()
            self.models_seen.clear()
            self.settings = self.baseline.updated({})
            self._reset_stats()
            return {}
        if action == ("GET", "ping"):
            return {"ok": True, "subprocess": self.subprocess_mode}
        if action == ("POST", "shutdown"):
            if self.on_shutdown is not None:
                self.on_shutdown()
            return {}
        return None
