"""Ollama's native HTTP API: /api/chat, /api/generate and the metadata endpoints.

Wire format as in Ollama's docs/api.md: ``stream`` defaults to TRUE; streams are
NDJSON (``application/x-ndjson``), one object per line, the last one with
``"done": true``, ``done_reason`` and the token counts / durations (ns).
Errors are ``{"error": "message"}``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from ._engine import Adapter, GenRequest, Plan, Timing, serve_generation

if TYPE_CHECKING:
    from ._core import Ctx, LoopbackApp

OLLAMA_VERSION = "0.12.6"
NDJSON = "application/x-ndjson"
_MODIFIED_AT = "2025-01-01T00:00:00.000000000Z"
_DETAILS = {
    "parent_model": "",
    "format": "gguf",
    "family": "loopback",
    "families": ["loopback"],
    "parameter_size": "1B",
    "quantization_level": "Q4_0",
}


def _created_at() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def content_text(content: Any) -> str:
    """Message content as text (OpenAI-style content-part lists are joined)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and "text" in p
        )
    return ""


def error_json(status: int, error: str | dict[str, Any]) -> bytes:
    if isinstance(error, dict):
        return json.dumps(error).encode()
    message = error or _DEFAULT_ERRORS.get(status) or HTTPStatus(status).phrase.lower()
    return json.dumps({"error": message}).encode()


_DEFAULT_ERRORS = {
    404: 'model "loopback" not found, try pulling it first',
    429: "server busy, please try again.  maximum pending requests exceeded",
    500: "an error was encountered while running the model",
    503: "server busy, please try again.  maximum pending requests exceeded",
}


class OllamaAdapter(Adapter):
    stream_content_type = NDJSON

    def __init__(self, plan: Plan, req: GenRequest, seq: int, *, generate: bool) -> None:
        super().__init__(plan, req, seq)
        self.generate = generate
        self._tool_calls = [
            {
                "function": {
                    "index": i,
                    "name": call["name"],
                    "arguments": call.get("arguments") or {},
                }
            }
            for i, call in enumerate(plan.tool_calls)
        ]

    def _message(self, content: str, tool_calls: bool = False) -> dict[str, Any]:
        if self.generate:
            return {"response": content}
        msg: dict[str, Any] = {"role": "assistant", "content": content}
        if tool_calls and self._tool_calls:
            msg["tool_calls"] = self._tool_calls
        return {"message": msg}

    def _line(self, obj: dict[str, Any]) -> bytes:
        return json.dumps(obj).encode() + b"\n"

    def _final(self, timing: Timing, content: str, tool_calls: bool) -> dict[str, Any]:
        total, prompt_ns, eval_ns = timing.ns()
        plan = self.plan
        done_reason = "length" if plan.finish_reason == "length" else "stop"
        if plan.finish_reason not in ("stop", "length", "tool_calls"):
            done_reason = plan.finish_reason
        obj: dict[str, Any] = {"model": self.req.model, "created_at": _created_at()}
        obj.update(self._message(content, tool_calls))
        obj.update(
            {
                "done": True,
                "done_reason": done_reason,
                "total_duration": total,
                "load_duration": 1,
                "prompt_eval_count": plan.prompt_tokens,
                "prompt_eval_duration": prompt_ns,
                "eval_count": plan.completion_tokens,
                "eval_duration": eval_ns,
            }
        )
        if self.generate:
            obj["context"] = list(range(plan.prompt_tokens + len(plan.tokens)))[:64]
        return obj

    def error_body(self, status: int, error: str | dict[str, Any]) -> bytes:
        return error_json(status, error)

    def n_events(self) -> int:
        has_tools = bool(self._tool_calls) and not self.generate
        return len(self.plan.tokens) + (1 if has_tools else 0)

    def event(self, i: int, timing: Timing) -> bytes:
        tokens = self.plan.tokens
        content = tokens[i] if i < len(tokens) else ""
        obj: dict[str, Any] = {"model": self.req.model, "created_at": _created_at()}
        obj.update(self._message(content, tool_calls=i >= len(tokens)))
        obj["done"] = False
        return self._line(obj)

    def epilogue(self, timing: Timing) -> list[bytes]:
        return [self._line(self._final(timing, "", False))]

    def malformed_event(self) -> bytes:
        return b'{"model": "' + self.req.model.encode() + b'", "created_at": {{not json\n'

    def full_body(self, timing: Timing) -> bytes:
        return json.dumps(self._final(timing, self.plan.text, True)).encode()


def _bad(ctx: Ctx, status: int, message: str) -> None:
    ctx.conn.send(status, error_json(status, message))


def _parse(ctx: Ctx, generate: bool) -> GenRequest | None:
    body = ctx.body
    if ctx.body_error is not None:
        _bad(ctx, 400, ctx.body_error)
        return None
    if not isinstance(body, dict):
        _bad(ctx, 400, "invalid request body")
        return None
    model = body.get("model")
    if not isinstance(model, str) or not model:
        _bad(ctx, 400, "model is required")
        return None
    if generate:
        prompt = content_text(body.get("prompt"))
        texts = [content_text(body.get("system")), prompt]
        last_user = prompt
    else:
        messages = body.get("messages") or []
        if not isinstance(messages, list):
            _bad(ctx, 400, "messages must be a list")
            return None
        texts = [content_text(m.get("content")) for m in messages if isinstance(m, dict)]
        users = [
            content_text(m.get("content"))
            for m in messages
            if isinstance(m, dict) and m.get("role") == "user"
        ]
        last_user = users[-1] if users else ""
    stream = body.get("stream")
    fmt = body.get("format")
    options = body.get("options") or {}
    num_predict = options.get("num_predict")
    stop = options.get("stop") or []
    return GenRequest(
        model=model,
        last_user=last_user,
        texts=texts,
        stream=True if stream is None else bool(stream),
        json_schema=fmt if isinstance(fmt, dict) else None,
        wants_json=fmt == "json" or isinstance(fmt, dict),
        max_tokens=num_predict if isinstance(num_predict, int) and num_predict >= 0 else None,
        stop=[stop] if isinstance(stop, str) else [str(s) for s in stop],
    )


async def _generation(app: LoopbackApp, ctx: Ctx, generate: bool) -> None:
    req = _parse(ctx, generate)
    if req is None:
        return
    app.note_model(req.model)
    if generate and not req.last_user:
        # Ollama answers an empty prompt by (re)loading the model.
        obj = {"model": req.model, "created_at": _created_at(), "response": ""}
        ctx.conn.send_json(200, {**obj, "done": True, "done_reason": "load"})
        return
    plan, seq = app.plan(req, ctx, tool_finish="stop")
    adapter = OllamaAdapter(plan, req, seq, generate=generate)
    await serve_generation(ctx.conn, adapter, ctx.timing, app.kill)


async def chat(app: LoopbackApp, ctx: Ctx) -> None:
    await _generation(app, ctx, generate=False)


async def generate(app: LoopbackApp, ctx: Ctx) -> None:
    await _generation(app, ctx, generate=True)


async def root(app: LoopbackApp, ctx: Ctx) -> None:
    text = b"Ollama is running"
    if ctx.req.method == "HEAD":
        ctx.conn.start_fixed(200, len(text), "text/plain; charset=utf-8")
        ctx.conn.write_raw(b"", done=True)
    else:
        ctx.conn.send(200, text, "text/plain; charset=utf-8")


async def version(app: LoopbackApp, ctx: Ctx) -> None:
    ctx.conn.send_json(200, {"version": OLLAMA_VERSION})


def _model_entry(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "model": name,
        "modified_at": _MODIFIED_AT,
        "size": 1_000_000,
        "digest": "0" * 64,
        "details": _DETAILS,
    }


async def tags(app: LoopbackApp, ctx: Ctx) -> None:
    ctx.conn.send_json(200, {"models": [_model_entry(m) for m in app.model_names()]})


async def ps(app: LoopbackApp, ctx: Ctx) -> None:
    models = [dict(_model_entry(m), expires_at=_MODIFIED_AT, size_vram=0) for m in app.models_seen]
    ctx.conn.send_json(200, {"models": models})


async def show(app: LoopbackApp, ctx: Ctx) -> None:
    body = ctx.body if isinstance(ctx.body, dict) else {}
    name = body.get("model") or body.get("name")
    if not isinstance(name, str) or not name:
        _bad(ctx, 400, "model is required")
        return
    if app.settings.strict_models and name not in app.settings.models:
        ctx.conn.send(404, error_json(404, f"model '{name}' not found"))
        return
    ctx.conn.send_json(
        200,
        {
            "license": "",
            "modelfile": f"FROM {name}\n",
            "parameters": "",
            "template": "{{ .Prompt }}",
            "details": _DETAILS,
            "model_info": {"general.architecture": "loopback", "loopback.context_length": 8192},
            "capabilities": ["completion", "tools"],
            "modified_at": _MODIFIED_AT,
        },
    )


async def pull(app: LoopbackApp, ctx: Ctx) -> None:
    body = ctx.body if isinstance(ctx.body, dict) else {}
    name = body.get("model") or body.get("name")
    if isinstance(name, str) and name:
        app.note_model(name)
    if body.get("stream") is False:
        ctx.conn.send_json(200, {"status": "success"})
        return
    ctx.conn.start_chunked(200, NDJSON)
    for status in ("pulling manifest", "verifying sha256 digest", "success"):
        ctx.conn.chunk(json.dumps({"status": status}).encode() + b"\n")
    ctx.conn.end_chunked()


ROUTES = {
    ("GET", "/"): root,
    ("HEAD", "/"): root,
    ("GET", "/api/version"): version,
    ("GET", "/api/tags"): tags,
    ("GET", "/api/ps"): ps,
    ("POST", "/api/show"): show,
    ("POST", "/api/pull"): pull,
    ("POST", "/api/chat"): chat,
    ("POST", "/api/generate"): generate,
}
