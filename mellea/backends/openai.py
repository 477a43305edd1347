"""`OpenAIBackend`: the OpenAI chat-completions API over our own HTTP layer.

Speaks to OpenAI and to every server with the same protocol — vLLM, SGLang, llama.cpp's
server, LM Studio, Ollama's `/v1` — without the `openai` SDK: one POST to
`{base_url}/chat/completions`, SSE when streaming. `base_url` may list several replicas
of one deployment; requests then go to the least-busy one (see `_replicas.py`).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import urlsplit

from ..core.errors import BackendProtocolError, InvalidOptionError
from ..core.thunk import ModelOutputThunk
from ._chat import ChatBackend, ChatCall, RawCall
from ._http import HttpEndpoint, decode_json_line
from ._http_client import HttpClient
from ._http_config import Cert, Verify
from ._openai_text import COMPLETIONS_PATH, TextAssembler, completion_payload
from ._openai_wire import (
    OPENAI_NATIVE_ALIASES,
    JsonForm,
    StreamAssembler,
    StructuredOutputForm,
    build_payload,
    without_stream_fields,
)
from ._policy import DEFAULT_SERVER_MAX_CONCURRENCY, NO_RETRY, RetryPolicy, Timeout
from ._replicas import Admission, ReplicaSet
from .model_ids import OPENAI_GPT_4O, ModelIdentifier
from .model_options import ModelOption, ResolvedOptions

DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"
DEFAULT_OPENAI_MODEL = OPENAI_GPT_4O
CHAT_PATH = "/chat/completions"
_OFFICIAL_HOST = "api.openai.com"
_STATUS_HINTS = {
    401: "check api_key= / OPENAI_API_KEY",
    404: "check model_id (the name the server serves) and that base_url ends in /v1",
}


def openai_base_urls(base_url: str | Sequence[str] | None = None) -> list[str]:
    """`base_url` (one URL or a list), else `OPENAI_BASE_URL` (comma-separated), else OpenAI."""
    if base_url is None:
        raw = os.environ.get("OPENAI_BASE_URL") or DEFAULT_OPENAI_BASE_URL
        urls = [u.strip() for u in raw.split(",")]
    elif isinstance(base_url, str):
        urls = [base_url]
    else:
        urls = list(base_url)
    urls = [u.rstrip("/") for u in urls if u and u.strip()]
    if not urls:
        raise InvalidOptionError(f"base_url must name at least one URL, got {base_url!r}")
    for url in urls:
        if urlsplit(url).scheme not in ("http", "https"):
            raise InvalidOptionError(f"base_url must be an http(s) URL, got {url!r}")
    return urls


class OpenAIBackend(ChatBackend):
    """Chat with any OpenAI-compatible chat-completions server.

    Args:
        model_id: The model name the server knows (default `gpt-4o`).
        base_url: `https://api.openai.com/v1` by default, or `OPENAI_BASE_URL`; a list
            of URLs (or a comma-separated `OPENAI_BASE_URL`) spreads requests over
            replicas: least-busy first, failing over on connection errors.
        api_key: Sent as a Bearer token; defaults to `OPENAI_API_KEY`. Required only by
            the official API; local servers need none.
        model_options: Defaults for every call (per-call options win).
        timeout: Seconds for each phase — connect (at most 10 s), write, and each read wait,
            streamed chunks included unless `ModelOption.STREAM_TIMEOUT` is set — or a
            `Timeout` per phase (`mellea.backends._policy`; its `pool` bounds the wait for
            a request slot). `ModelOption.TIMEOUT` is the deadline of a whole call,
            retries included.
        retry: Retry policy for failures before any output (see `mellea.backends._policy`).
        max_concurrency: Requests in flight at once, per replica (default 256); more wait.
        default_headers: Extra HTTP headers for every request (not the ones that frame
            the request or manage the connection: Content-Length, Host, ...).
        default_extra_body: Fields merged into every request body (e.g. vLLM's
            `{"chat_template_kwargs": {"enable_thinking": False}}`); a per-call
            `model_options={"extra_body": ...}` wins, `chat_template_kwargs` deep-merged.
        verify: TLS verification: True (system CA store), False, a CA bundle path, or an
            `ssl.SSLContext`.
        cert: A client certificate: PEM path, `(certfile, keyfile)` or with a password.
    """

    provider: ClassVar[str] = "openai"
    service: ClassVar[str] = "OpenAI-compatible server"
    native_aliases: ClassVar[Mapping[str, str]] = OPENAI_NATIVE_ALIASES

    def __init__(
        self,
        model_id: str | ModelIdentifier = DEFAULT_OPENAI_MODEL,
        *,
        base_url: str | Sequence[str] | None = None,
        api_key: str | None = None,
        model_options: Mapping[str, Any] | None = None,
        timeout: float | Timeout | None = None,
        retry: RetryPolicy | None = None,
        max_concurrency: int | None = DEFAULT_SERVER_MAX_CONCURRENCY,
        default_headers: Mapping[str, str] | None = None,
        default_extra_body: Mapping[str, Any] | None = None,
        verify: Verify = True,
        cert: Cert = None,
    ) -> None:
        super().__init__(model_id, model_options=model_options)
        urls = openai_base_urls(base_url)
        self.base_urls = urls
        self.base_url = urls[0]
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        official = any(urlsplit(u).hostname == _OFFICIAL_HOST for u in urls)
        if official and not key:
            raise InvalidOptionError(
                "the OpenAI API needs an API key: set OPENAI_API_KEY or pass api_key=...; "
                "for a local server pass base_url=... (no key needed)"
            )
        headers = dict(default_headers or {})
        if key:
            headers.setdefault("authorization", f"Bearer {key}")
        # OpenAI's newer models refuse `max_tokens`; compatible servers all take it.
        self._max_tokens_key = "max_completion_tokens" if official else "max_tokens"
        self.default_extra_body = dict(default_extra_body or {})
        client = HttpClient(headers=headers, verify=verify, cert=cert)  # one per backend
        endpoints = [
            HttpEndpoint(
                url,
                service=self.service,
                unavailable_hint="is the server running, and does base_url end in /v1?",
                status_hints=_STATUS_HINTS,
                timeout=timeout,
                max_concurrency=max_concurrency,
                client=client,
            )
            for url in urls
        ]
        self._http = ReplicaSet(endpoints, retry=retry)
        self._json_form = StructuredOutputForm()

    def _admission(self) -> Admission | None:
        return self._http.admission

    async def aclose(self) -> None:
        await self._http.aclose()

    def _payload(self, call: ChatCall, json_form: JsonForm = "json_schema") -> dict[str, Any]:
        key = self._max_tokens_key
        raw = call.options.raw
        if "max_completion_tokens" in raw and not {ModelOption.MAX_NEW_TOKENS, "max_tokens"} & set(
            raw
        ):
            key = "max_completion_tokens"  # the user chose that name: keep it
        return build_payload(
            self.model_id, call, json_form=json_form, max_tokens_key=key,
            default_extra_body=self.default_extra_body,
        )  # fmt: skip

    def request_description(self, call: ChatCall) -> dict[str, Any]:
        return without_stream_fields(self._payload(call))

    async def _generate(self, call: ChatCall, mot: ModelOutputThunk[Any]) -> None:
        async def send(form: JsonForm, retry: RetryPolicy | None) -> None:
            assembler = StreamAssembler(call.tools, self.service)
            await self._send(
                CHAT_PATH, self._payload(call, form), call.options, mot, retry, assembler
            )

        await self._send_with_json_form(send, call.json_schema is not None, mot)

    async def _generate_raw(self, call: RawCall, mot: ModelOutputThunk[Any]) -> None:
        async def send(form: JsonForm, retry: RetryPolicy | None) -> None:
            payload = completion_payload(
                self.model_id, call, json_form=form, default_extra_body=self.default_extra_body
            )
            assembler = TextAssembler(self.service)
            await self._send(COMPLETIONS_PATH, payload, call.options, mot, retry, assembler)

        await self._send_with_json_form(send, call.json_schema is not None, mot)

    async def _send_with_json_form(
        self,
        send: Callable[[JsonForm, RetryPolicy | None], Awaitable[None]],
        structured: bool,
        mot: ModelOutputThunk[Any],
    ) -> None:
        """`send` once; with a JSON schema, in the `response_format` form the server takes."""
        if not structured:
            await send("json_schema", None)
            return

        async def probe(form: JsonForm, probing: bool) -> None:
            await send(form, NO_RETRY if probing else None)

        await self._json_form.run(probe, mot, self.service)

    async def _send(
        self,
        path: str,
        payload: dict[str, Any],
        options: ResolvedOptions,
        mot: ModelOutputThunk[Any],
        retry: RetryPolicy | None,
        assembler: StreamAssembler | TextAssembler,
    ) -> None:
        if not options.stream:
            data = await self._http.post_json(path, payload, mot, retry=retry)
            assembler.absorb_whole(data, mot)
            return
        read_timeout = self._http.stream_read_timeout(options)
        async with self._http.open(
            path, payload, mot, read_timeout=read_timeout, retry=retry
        ) as opened:
            endpoint, response = opened.endpoint, opened.response
            if "text/event-stream" not in response.headers.get("content-type", ""):
                # A server that ignores `stream` answers with one JSON body.
                assembler.absorb_whole(await endpoint.read_json(response), mot)
                return
            event = ""
            async for line in endpoint.iter_lines(response):
                if line.startswith(b"event:"):
                    event = line[6:].strip().decode("utf-8", "replace")
                    continue
                if not line.startswith(b"data:"):
                    continue  # comments (": ping"), ids, retry hints
                data = line[5:].strip()
                if data == b"[DONE]":
                    assembler.finish(mot)
                    return
                chunk = decode_json_line(data, self.service)
                if event == "error" and isinstance(chunk, dict) and "error" not in chunk:
                    chunk = {"error": chunk}
                assembler.absorb(chunk, mot)
        if assembler.finish_reason is not None:  # some servers omit [DONE]
            assembler.finish(mot)
            return
        raise BackendProtocolError(f"{self.service} ended the stream before it finished")


__all__ = ["DEFAULT_OPENAI_BASE_URL", "DEFAULT_OPENAI_MODEL", "OpenAIBackend", "openai_base_urls"]
