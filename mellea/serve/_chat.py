"""The chat endpoints: `POST /v1/chat/completions` and the playground's `POST /playground/chat`.

Both parse an OpenAI chat-completions request, call the program's `serve()`, and answer:
- `/v1/chat/completions` — one `chat.completion` JSON, or (`"stream": true`) SSE
  `chat.completion.chunk` events ending in `data: [DONE]`, with a usage chunk when
  `stream_options.include_usage` is set;
- `/playground/chat` — newline-delimited JSON events of `Answer.trace()` (attempts,
  validations, the answer, usage and timings).

Every request runs as a task next to a watcher of the client's connection: when the
client disconnects, the task is cancelled and with it the generation (the thunk, every
attempt of its sampling loop, and the backend requests behind them). Errors become the
OpenAI error shape (`_errors.describe`): as the HTTP response before the first byte was
sent, as a final `data: {"error": ...}` event after.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from . import _wire
from ._answer import Answer
from ._errors import BadRequest, ServerDeadline, describe
from ._program import Program
from ._schema import format_model

logger = logging.getLogger("mellea.serve")


@dataclass
class ServeOptions:
    """Server-wide settings of `m serve`."""

    timeout: float | None = None
    """Deadline in seconds for each request (504 past it); also given to `serve()` as
    `ModelOption.TIMEOUT`, so a sync program's own calls stop in time."""
    debug: bool = False
    """Send tracebacks of failed requests to the client."""
    model_name: str | None = None
    """The id `GET /v1/models` lists (default: the program file's name)."""


class ClientGone(Exception):
    """Sending failed: the client's connection is closed."""


class Responder:
    """Sends one response over ASGI; remembers whether the headers went out."""

    def __init__(self, send: Send) -> None:
        self._raw_send = send
        self.started = False
        self.streaming = ""  # "sse" or "ndjson" once a stream started

    async def _send(self, message: Message) -> None:
        try:
            await self._raw_send(message)
        except OSError as exc:  # uvicorn: the connection was closed under us
            raise ClientGone(str(exc)) from exc

    async def json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(data))]
        await self._send({"type": "http.response.start", "status": status, "headers": headers})
        self.started = True
        await self._send({"type": "http.response.body", "body": data})

    async def start_stream(self, kind: str) -> None:
        media = b"text/event-stream" if kind == "sse" else b"application/x-ndjson"
        headers = [
            (b"content-type", media + b"; charset=utf-8"),
            (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no"),  # proxies: do not buffer the stream
        ]
        await self._send({"type": "http.response.start", "status": 200, "headers": headers})
        self.started, self.streaming = True, kind

    async def chunk(self, data: bytes) -> None:
        await self._send({"type": "http.response.body", "body": data, "more_body": True})

    async def end(self) -> None:
        await self._send({"type": "http.response.body", "body": b""})

    async def error(self, status: int, body: dict[str, Any]) -> None:
        if not self.started:
            await self.json(status, body)
            return
        if self.streaming == "sse":
            await self.chunk(_wire.error_event(body))
        else:
            await self.chunk(_ndjson({"type": "error", "status": status, "error": body["error"]}))
        await self.end()


class ChatEndpoint:
    """An ASGI endpoint for one of the two routes (`trace=True`: the playground's)."""

    def __init__(self, program: Program, options: ServeOptions, *, trace: bool = False) -> None:
        self.program = program
        self.options = options
        self.trace = trace

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        body = await _read_body(receive)
        if body is None:
            return  # the client left before sending its request
        responder = Responder(send)
        work = asyncio.ensure_future(self._respond(body, responder, started))
        disconnect = asyncio.ensure_future(_wait_disconnect(receive))
        try:
            await asyncio.wait({work, disconnect}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not work.done():
                logger.info("client disconnected: generation cancelled")
                work.cancel()
            disconnect.cancel()
            await asyncio.gather(work, disconnect, return_exceptions=True)
        if not work.cancelled() and work.exception() is not None:
            raise work.exception()  # type: ignore[misc]  # a bug of ours: uvicorn logs it

    async def _respond(self, body: bytes, responder: Responder, started: float) -> None:
        answer: Answer | None = None
        try:
            async with _deadline(self.options.timeout):
                request, raw = _parse(body)
                call_options = _wire.model_options(request)
                fmt = format_model(request.response_format)
                if fmt is not None and not self.program.accepts_format:
                    raise BadRequest(
                        "this program cannot honour response_format: its serve() has no "
                        "format parameter",
                        param="response_format",
                    )
                if self.options.timeout is not None:
                    from ..backends.model_options import ModelOption

                    call_options[ModelOption.TIMEOUT] = self.options.timeout
                result = await self.program.call(
                    request.messages, request.requirements, call_options,
                    format=fmt, client_options=raw,
                )  # fmt: skip
                answer = Answer(result, started=started)
                if self.trace:
                    await self._send_trace(answer, request, responder)
                elif request.stream:
                    await self._send_stream(answer, request, responder, fmt)
                else:
                    await answer.wait()
                    _check_format(answer, fmt)
                    completion = _wire.completion_body(
                        _wire.new_completion_id(), request.model, _wire.now(), answer.text,
                        answer.tool_calls(), answer.finish_reason(), answer.usage(),
                    )  # fmt: skip
                    await responder.json(200, completion)
        except ClientGone:
            logger.info("client disconnected: generation cancelled")
        except Exception as exc:
            status, error = describe(exc, debug=self.options.debug)
            log = logger.exception if status >= 500 else logger.info
            log("request failed with %d: %s", status, error["error"]["message"])
            await responder.error(status, error)
        finally:
            if answer is not None and not answer.thunk.is_computed():
                answer.cancel()

    async def _send_stream(
        self, answer: Answer, request: _wire.ChatCompletionRequest, out: Responder, fmt: Any
    ) -> None:
        writer = _wire.ChunkWriter(_wire.new_completion_id(), request.model, _wire.now())
        await out.start_stream("sse")
        await out.chunk(writer.delta({"role": "assistant", "content": ""}))
        async for delta in answer.deltas():
            await out.chunk(writer.content(delta))
        _check_format(answer, fmt)
        tool_calls = answer.tool_calls()
        if tool_calls:
            deltas = [{"index": i, **call} for i, call in enumerate(tool_calls)]
            await out.chunk(writer.delta({"tool_calls": deltas}))
        await out.chunk(writer.delta({}, answer.finish_reason()))
        if request.stream_options is not None and request.stream_options.include_usage:
            await out.chunk(writer.usage(answer.usage()))
        await out.chunk(_wire.DONE)
        await out.end()

    async def _send_trace(
        self, answer: Answer, request: _wire.ChatCompletionRequest, out: Responder
    ) -> None:
        await out.start_stream("ndjson")
        await out.chunk(_ndjson({"type": "start", "model": request.model}))
        events: AsyncIterator[dict[str, Any]] = answer.trace()
        async for event in events:
            await out.chunk(_ndjson(event))
        await out.end()


def _parse(body: bytes) -> tuple[_wire.ChatCompletionRequest, dict[str, Any]]:
    try:
        raw = json.loads(body)
    except ValueError as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise BadRequest("the request body must be a JSON object")
    return _wire.ChatCompletionRequest.model_validate(raw), raw


def _check_format(answer: Answer, fmt: Any) -> None:
    """With a response_format, the answer must validate against it (never a wrong object)."""
    if fmt is None or answer.tool_calls():
        return
    from pydantic import ValidationError

    try:
        fmt.model_validate_json(answer.text)
    except ValidationError as exc:
        detail = exc.errors()[0]["msg"] if exc.errors() else str(exc)
        raise ValueError(f"the program's answer does not match response_format: {detail}") from None


def _ndjson(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode() + b"\n"


async def _read_body(receive: Receive) -> bytes | None:
    parts = []
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            return None
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts)


async def _wait_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


@contextlib.asynccontextmanager
async def _deadline(seconds: float | None) -> AsyncIterator[None]:
    if seconds is None:
        yield
        return
    scope = asyncio.timeout(seconds)
    try:
        async with scope:
            yield
    except TimeoutError:
        if not scope.expired():  # a timeout error of the program's own
            raise
        raise ServerDeadline(f"the request did not finish within {seconds} s") from None


__all__ = ["ChatEndpoint", "Responder", "ServeOptions"]
