"""OpenAI chat-completions API (as served by OpenAI, vLLM and llama.cpp's server).

``POST /v1/chat/completions``: ``stream`` defaults to false. Streams are
``text/event-stream``: ``data: {chat.completion.chunk}\\n\\n`` events (role
preamble, content deltas, tool-call deltas, a chunk with ``finish_reason``, a
usage chunk with empty ``choices`` if ``stream_options.include_usage``), then
``data: [DONE]\\n\\n``. Errors are ``{"error": {"message", "type", "param", "code"}}``.
"""

from __future__ import annotations

import json
import time
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from ._engine import Adapter, GenRequest, Plan, Timing, serve_generation
from ._ollama import content_text
from ._text import tokenize_json

if TYPE_CHECKING:
    from ._core import Ctx, LoopbackApp

SSE = "text/event-stream; charset=utf-8"
FINGERPRINT = "fp_loopback"

_ERROR_KINDS: dict[int, tuple[str, str | int | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}


def error_json(status: int, error: str | dict[str, Any]) -> bytes:
    if isinstance(error, dict):
        return json.dumps(error).encode()
    kind, code = _ERROR_KINDS.get(status, ("server_error", None))
    if status >= 500:
        kind, code = "server_error", status  # llama.cpp's shape for 5xx
    message = error or HTTPStatus(status).phrase
    return json.dumps(
        {"error": {"message": message, "type": kind, "param": None, "code": code}}
    ).encode()


class OpenAIAdapter(Adapter):
    stream_content_type = SSE

    def __init__(self, plan: Plan, req: GenRequest, seq: int) -> None:
        super().__init__(plan, req, seq)
        self.id = f"chatcmpl-loopback{seq:08d}"
        self.created = int(time.time())
        self._calls: list[dict[str, Any]] = [
            {
                "id": f"call_lb{seq:06d}{i:03d}",
                "type": "function",
                "function": {
                    "name": call["name"],
                    "arguments": json.dumps(call.get("arguments") or {}),
                },
            }
            for i, call in enumerate(plan.tool_calls)
        ]
        self._deltas: list[dict[str, Any]] = [{"content": t} for t in plan.tokens]
        for i, call in enumerate(self._calls):
            fn = call["function"]
            head = {
                "index": i,
                "id": call["id"],
                "type": "function",
                "function": {"name": fn["name"], "arguments": ""},
            }
            self._deltas.append({"tool_calls": [head]})
            for piece in tokenize_json(fn["arguments"]):
                self._deltas.append(
                    {"tool_calls": [{"index": i, "function": {"arguments": piece}}]}
                )

    def _usage(self) -> dict[str, Any]:
        p, c = self.plan.prompt_tokens, self.plan.completion_tokens
        scripted = self.plan.reply.usage if self.plan.reply is not None else None
        extra = {k: v for k, v in (scripted or {}).items() if not k.endswith("tokens")}
        return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c, **extra}

    def _chunk(self, choices: list[dict[str, Any]], usage: Any = None) -> bytes:
        obj: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.req.model,
            "system_fingerprint": FINGERPRINT,
            "choices": choices,
        }
        if self.req.include_usage:
            obj["usage"] = usage
        return b"data: " + json.dumps(obj).encode() + b"\n\n"

    @staticmethod
    def _choice(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}

    def error_body(self, status: int, error: str | dict[str, Any]) -> bytes:
        return error_json(status, error)

    def preamble(self) -> list[bytes]:
        content = "" if self.plan.tokens or not self._calls else None
        return [self._chunk([self._choice({"role": "assistant", "content": content})])]

    def n_events(self) -> int:
        return len(self._deltas)

    def event(self, i: int, timing: Timing) -> bytes:
        return self._chunk([self._choice(self._deltas[i])])

    def epilogue(self, timing: Timing) -> list[bytes]:
        out = [self._chunk([self._choice({}, self.plan.finish_reason)])]
        if self.req.include_usage:
            out.append(self._chunk([], self._usage()))
        out.append(b"data: [DONE]\n\n")
        return out

    def malformed_event(self) -> bytes:
        return b'data: {"id": "' + self.id.encode() + b'", "choices": [{{not json\n\n'

    def full_body(self, timing: Timing) -> bytes:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": self.plan.text if self.plan.tokens or not self._calls else None,
            "refusal": None,
        }
        if self._calls:
            message["tool_calls"] = self._calls
        obj = {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.req.model,
            "system_fingerprint": FINGERPRINT,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": self.plan.finish_reason,
                }
            ],
            "usage": self._usage(),
        }
        return json.dumps(obj).encode()


def _bad(ctx: Ctx, status: int, message: str) -> None:
    ctx.conn.send(status, error_json(status, message))


def _parse(ctx: Ctx) -> GenRequest | None:
    body = ctx.body
    if ctx.body_error is not None:
        _bad(ctx, 400, f"We could not parse the JSON body of your request. ({ctx.body_error})")
        return None
    if not isinstance(body, dict):
        _bad(ctx, 400, "request body must be a JSON object")
        return None
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        _bad(ctx, 400, "'messages' must be a non-empty array")
        return None
    texts = [content_text(m.get("content")) for m in messages if isinstance(m, dict)]
    users = [
        content_text(m.get("content"))
        for m in messages
        if isinstance(m, dict) and m.get("role") == "user"
    ]
    model = body.get("model")
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    stop = body.get("stop") or []
    stream_options = body.get("stream_options") or {}
    req = GenRequest(
        model=model if isinstance(model, str) and model else "loopback",
        last_user=users[-1] if users else "",
        texts=texts,
        stream=bool(body.get("stream", False)),
        max_tokens=max_tokens if isinstance(max_tokens, int) else None,
        stop=[stop] if isinstance(stop, str) else [str(s) for s in stop],
        include_usage=bool(stream_options.get("include_usage")),
    )
    fmt = body.get("response_format") or {}
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind == "json_schema":
        req.wants_json = True
        req.openai_json_schema = True
        req.json_schema = (fmt.get("json_schema") or {}).get("schema") or {}
    elif kind == "json_object":
        req.wants_json = True
        req.json_schema = fmt.get("schema") or {}  # llama.cpp extension
    return req


async def chat_completions(app: LoopbackApp, ctx: Ctx) -> None:
    req = _parse(ctx)
    if req is None:
        return
    app.note_model(req.model)
    plan, seq = app.plan(req, ctx, tool_finish="tool_calls")
    await serve_generation(ctx.conn, OpenAIAdapter(plan, req, seq), ctx.timing, app.kill)


async def models(app: LoopbackApp, ctx: Ctx) -> None:
    data = [
        {"id": m, "object": "model", "created": 1735689600, "owned_by": "loopback"}
        for m in app.model_names()
    ]
    ctx.conn.send_json(200, {"object": "list", "data": data})


async def health(app: LoopbackApp, ctx: Ctx) -> None:
    ctx.conn.send_json(200, {"status": "ok"})


async def vllm_version(app: LoopbackApp, ctx: Ctx) -> None:
    version = app.settings.vllm_version
    if version is None:
        ctx.conn.send(404, error_json(404, "Not Found"))
    else:
        ctx.conn.send_json(200, {"version": version})


ROUTES = {
    ("POST", "/v1/chat/completions"): chat_completions,
    ("GET", "/v1/models"): models,
    ("GET", "/health"): health,
    ("GET", "/version"): vllm_version,
}
