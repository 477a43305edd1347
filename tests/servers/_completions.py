"""OpenAI's (legacy) completions API, `POST /v1/completions`, as vLLM and llama.cpp serve it.

A plain completion of `prompt` (a string; a list of one string is accepted too): the
default reply echoes it like the chat endpoint echoes the last user message. Streams are
`data: {text_completion}` events (a `text` delta each), a chunk with `finish_reason`, a
usage chunk if `stream_options.include_usage`, then `data: [DONE]`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ._engine import GenRequest, Timing, serve_generation
from ._openai import FINGERPRINT, OpenAIAdapter, error_json

if TYPE_CHECKING:
    from ._core import Ctx, LoopbackApp


class CompletionsAdapter(OpenAIAdapter):
    def _text_chunk(self, text: str, finish: str | None = None, usage: Any = None) -> bytes:
        obj: dict[str, Any] = {
            "id": self.id.replace("chatcmpl", "cmpl"),
            "object": "text_completion",
            "created": self.created,
            "model": self.req.model,
            "system_fingerprint": FINGERPRINT,
            "choices": (
                [] if usage is not None
                else [{"index": 0, "text": text, "logprobs": None, "finish_reason": finish}]
            ),
        }  # fmt: skip
        if self.req.include_usage:
            obj["usage"] = usage
        return b"data: " + json.dumps(obj).encode() + b"\n\n"

    def preamble(self) -> list[bytes]:
        return []

    def n_events(self) -> int:
        return len(self.plan.tokens)

    def event(self, i: int, timing: Timing) -> bytes:
        return self._text_chunk(self.plan.tokens[i])

    def epilogue(self, timing: Timing) -> list[bytes]:
        out = [self._text_chunk("", self.plan.finish_reason)]
        if self.req.include_usage:
            out.append(self._text_chunk("", usage=self._usage()))
        out.append(b"data: [DONE]\n\n")
        return out

    def full_body(self, timing: Timing) -> bytes:
        obj = {
            "id": self.id.replace("chatcmpl", "cmpl"),
            "object": "text_completion",
            "created": self.created,
            "model": self.req.model,
            "system_fingerprint": FINGERPRINT,
            "choices": [
                {
                    "index": 0,
                    "text": self.plan.text,
                    "logprobs": None,
                    "finish_reason": self.plan.finish_reason,
                }
            ],
            "usage": self._usage(),
        }
        return json.dumps(obj).encode()


def _parse(ctx: Ctx) -> GenRequest | None:
    body = ctx.body
    if ctx.body_error is not None or not isinstance(body, dict):
        ctx.conn.send(400, error_json(400, "request body must be a JSON object"))
        return None
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if not isinstance(prompt, str):
        ctx.conn.send(400, error_json(400, "'prompt' must be a string"))
        return None
    model = body.get("model")
    max_tokens = body.get("max_tokens")
    stop = body.get("stop") or []
    stream_options = body.get("stream_options") or {}
    return GenRequest(
        model=model if isinstance(model, str) and model else "loopback",
        last_user=prompt,
        texts=[prompt],
        stream=bool(body.get("stream", False)),
        max_tokens=max_tokens if isinstance(max_tokens, int) else None,
        stop=[stop] if isinstance(stop, str) else [str(s) for s in stop],
        include_usage=bool(stream_options.get("include_usage")),
    )


async def completions(app: LoopbackApp, ctx: Ctx) -> None:
    req = _parse(ctx)
    if req is None:
        return
    app.note_model(req.model)
    plan, seq = app.plan(req, ctx, tool_finish="stop")
    await serve_generation(ctx.conn, CompletionsAdapter(plan, req, seq), ctx.timing, app.kill)


ROUTES = {("POST", "/v1/completions"): completions}
