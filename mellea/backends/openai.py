"""`OpenAIBackend`: the OpenAI chat-completions API over our own HTTP layer.

Speaks to OpenAI and to every server with the same protocol — vLLM, SGLang, llama.cpp's
server, LM Studio, Ollama's `/v1` — without the `openai` SDK: one POST to
`{base_url}/chat/completions`, SSE when streaming. `base_url` may list several replicas
of one deployment; requests then go to the least-busy one (see `_replicas.py`).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from ..core.errors import BackendProtocolError, InvalidOptionError
from ..core.thunk import ModelOutputThunk
from ._adapters import NoAdapters, refuse_adapter_arguments
from ._chat import ChatBackend, ChatCall
from ._chat_parts import RawCall
from ._http import HttpEndpoint, decode_json_line
from ._http_client import HttpClient
from ._http_config import Cert, Verify
from ._openai_messages import prefetch_audio_urls
from ._openai_response import ChatReader, Reader, absorb_chunk, as_dict, finish_response
from ._openai_text import COMPLETIONS_PATH, TextAssembler, completion_payload
from ._openai_wire import (
    OPENAI_NATIVE_ALIASES,
    JsonForm,
    StructuredOutputForm,
    build_payload,
    without_stream_fields,
)
from ._policy import DEFAULT_SERVER_MAX_CONCURRENCY, NO_RETRY, RetryPolicy, Timeout
from ._replicas import Admission, ReplicaSet
from .model_ids import OPENAI_GPT_4O, ModelIdentifier
from .model_options import ModelOption, ResolvedOptions

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ..core.base import CBlock, Component
    from ..core.context import Context

DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"
DEFAULT_OPENAI_MODEL = OPENAI_GPT_4O
CHAT_PATH = "/chat/completions"
_OFFICIAL_HOST = "api.openai.com"
_STATUS_HINTS = {
    401: "check api_key= / OPENAI_API_KEY",
    404: "check model_id (the name the server serves) and that base_url ends in /v1",
}


_CLIENT_KWARGS = frozenset(
    "api_key organization project base_url websocket_base_url timeout max_retries "
    "default_headers default_query http_client _strict_response_validation".split()
)
CHAT_COMPLETIONS_FIELDS = frozenset(
    "messages model audio frequency_penalty function_call functions logit_bias logprobs "
    "max_completion_tokens max_tokens metadata modalities n parallel_tool_calls prediction "
    "presence_penalty prompt_cache_key reasoning_effort response_format safety_identifier "
    "seed service_tier stop store stream stream_options temperature tool_choice tools "
    "top_logprobs top_p user verbosity web_search_options extra_headers extra_query "
    "extra_body timeout".split()
)
"""The request fields of `POST /chat/completions` (the OpenAI SDK's `create` arguments)."""
COMPLETIONS_FIELDS = frozenset(
    "model prompt best_of echo frequency_penalty logit_bias logprobs max_tokens n "
    "presence_penalty seed stop stream stream_options suffix temperature top_p user "
    "extra_headers extra_query extra_body timeout".split()
)
"""The request fields of `POST /completions`."""


def _client_settings(
    kwargs: Mapping[str, Any], headers: Mapping[str, str] | None, retry: RetryPolicy | None
) -> tuple[dict[str, str], RetryPolicy | None]:
    """What of the `openai.OpenAI` client's arguments maps onto this backend's settings."""
    out = {**dict(kwargs.get("default_headers") or {}), **dict(headers or {})}
    if kwargs.get("organization"):
        out.setdefault("OpenAI-Organization", str(kwargs["organization"]))
    if kwargs.get("project"):
        out.setdefault("OpenAI-Project", str(kwargs["project"]))
    unsupported = [
        k for k in ("default_query", "http_client", "websocket_base_url") if kwargs.get(k)
    ]
    if unsupported:
        raise TypeError(f"OpenAIBackend does not support the OpenAI client's {unsupported}")
    if retry is None and isinstance(kwargs.get("max_retries"), int):
        retry = RetryPolicy(max_retries=kwargs["max_retries"])
    return out, retry


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


class OpenAIBackend(NoAdapters, ChatBackend):
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
        formatter: A `ChatFormatter` rendering components into messages (None: mellea's).
        load_embedded_adapters, adapter_source: adapters are not supported yet (asking
            for them raises `NotImplementedError`); default_to_constraint_checking_alora
            is accepted for compatibility and changes nothing without adapters.
        **kwargs: the `openai.OpenAI` client's arguments: `organization` and `project`
            (sent as headers), `default_headers`, `max_retries`, `timeout`.

    Plain completions (`generate_from_raw`) go to `{base_url}/completions`.
    """

    provider: ClassVar[str] = "openai"
    service: ClassVar[str] = "OpenAI-compatible server"
    native_aliases: ClassVar[Mapping[str, str]] = OPENAI_NATIVE_ALIASES

    def __init__(
        self,
        model_id: str | ModelIdentifier = DEFAULT_OPENAI_MODEL,
        formatter: Any = None,
        base_url: str | Sequence[str] | None = None,
        model_options: Mapping[str, Any] | None = None,
        *,
        default_to_constraint_checking_alora: bool = True,
        load_embedded_adapters: bool = False,
        adapter_source: str | None = None,
        api_key: str | None = None,
        default_extra_body: Mapping[str, Any] | None = None,
        timeout: float | Timeout | None = None,
        retry: RetryPolicy | None = None,
        max_concurrency: int | None = DEFAULT_SERVER_MAX_CONCURRENCY,
        default_headers: Mapping[str, str] | None = None,
        verify: Verify = True,
        cert: Cert = None,
        **kwargs: Any,
    ) -> None:
        refuse_adapter_arguments(
            "OpenAIBackend", load_embedded_adapters=load_embedded_adapters,
            adapter_source=adapter_source,
        )  # fmt: skip
        client_kwargs = self.filter_openai_client_kwargs(**kwargs)
        if set(kwargs) - set(client_kwargs):
            raise TypeError(
                f"OpenAIBackend got unexpected arguments {sorted(set(kwargs) - set(client_kwargs))}"
            )
        default_headers, retry = _client_settings(client_kwargs, default_headers, retry)
        if timeout is None and isinstance(client_kwargs.get("timeout"), int | float):
            timeout = float(client_kwargs["timeout"])
        super().__init__(model_id, formatter, model_options=model_options)
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

    def _payload(
        self, call: ChatCall, json_form: JsonForm = "json_schema", fetch_media: bool = True
    ) -> dict[str, Any]:
        key = self._max_tokens_key
        raw = call.options.raw
        if "max_completion_tokens" in raw and not {ModelOption.MAX_NEW_TOKENS, "max_tokens"} & set(
            raw
        ):
            key = "max_completion_tokens"  # the user chose that name: keep it
        return build_payload(
            self.model_id, call, json_form=json_form, max_tokens_key=key,
            default_extra_body=self.default_extra_body, fetch_media=fetch_media,
        )  # fmt: skip

    @staticmethod
    def filter_openai_client_kwargs(**kwargs: Any) -> dict[str, Any]:
        """The keyword arguments the `openai.OpenAI` client would take (others dropped).

        Of these, the backend honours `organization`, `project` (sent as headers),
        `default_headers`, `max_retries` and `timeout`; `api_key` and `base_url` are its
        own parameters.
        """
        return {k: v for k, v in kwargs.items() if k in _CLIENT_KWARGS}

    def filter_chat_completions_kwargs(self, model_options: Mapping[str, Any]) -> dict[str, Any]:
        """The entries of `model_options` that are chat-completions request fields."""
        return {k: v for k, v in model_options.items() if k in CHAT_COMPLETIONS_FIELDS}

    def filter_completions_kwargs(self, model_options: Mapping[str, Any]) -> dict[str, Any]:
        """The entries of `model_options` that are (plain) completions request fields."""
        return {k: v for k, v in model_options.items() if k in COMPLETIONS_FIELDS}

    async def generate_from_chat_context(
        self,
        action: Component[Any] | CBlock,
        ctx: Context,
        *,
        _format: type[BaseModel] | None = None,
        model_options: dict[str, Any] | None = None,
        tool_calls: bool = False,
    ) -> tuple[ModelOutputThunk[Any], Context]:
        """`generate_from_context` with the history sent as chat messages."""
        return await self.generate_from_context(
            action, ctx, format=_format, model_options=model_options, tool_calls=tool_calls
        )

    def register_embedded_adapter_model(
        self,
        source: str,
        *,
        revision: str = "main",
        cache_dir: str | None = None,
        intrinsic_name: str | None = None,
    ) -> list[str]:
        """Register a model's embedded adapters: not supported (`NotImplementedError`)."""
        refuse_adapter_arguments("OpenAIBackend", register_embedded_adapter_model=source)
        return []

    def request_description(self, call: ChatCall) -> dict[str, Any]:
        return without_stream_fields(self._payload(call, fetch_media=False))

    def raw_request_description(self, call: RawCall) -> dict[str, Any]:
        payload = completion_payload(
            self.model_id, call, default_extra_body=self.default_extra_body
        )  # (the response_format form is the server's business: `json_schema` describes it)
        return without_stream_fields(payload)

    async def _generate(self, call: ChatCall, mot: ModelOutputThunk[Any]) -> None:
        for message in call.messages:
            if message.get("audio"):
                await prefetch_audio_urls(call.messages)  # no provider takes audio by URL
                break
        if call.json_schema is None:
            await self._send_chat(call, mot, "json_schema", None)
            return

        async def probe(form: JsonForm, probing: bool) -> None:
            await self._send_chat(call, mot, form, NO_RETRY if probing else None)

        await self._json_form.run(probe, mot, self.service)

    async def _send_chat(
        self, call: ChatCall, mot: ModelOutputThunk[Any], form: JsonForm, retry: RetryPolicy | None
    ) -> None:
        """One chat-completions request for `call` (response_format in `form`) into `mot`."""
        payload = self._payload(call, form)
        conversation = payload["messages"]
        opts = call.options
        if not opts.stream:  # the common case, without the streaming reader's layers
            await self.processing(
                mot, await self._http.post_json(CHAT_PATH, payload, mot, retry=retry)
            )
        else:

            async def done(m: ModelOutputThunk[Any]) -> None:
                await self.post_processing(
                    m, call.tools, conversation, opts.thinking, opts.seed, call.format
                )

            await self._send(
                CHAT_PATH, payload, opts, mot, retry, ChatReader(self.processing, done)
            )
            return
        await self.post_processing(
            mot, call.tools, conversation, opts.thinking, opts.seed, call.format
        )

    async def processing(self, mot: ModelOutputThunk[Any], chunk: Any) -> None:
        """One answer object into `mot`: a whole `chat.completion` or a stream's
        `chat.completion.chunk` (a dict or an SDK object). Text and reasoning reach the
        thunk at once; the object is kept in `mot.raw`."""
        absorb_chunk(mot, as_dict(chunk), self.service)

    async def post_processing(
        self,
        mot: ModelOutputThunk[Any],
        tools: Mapping[str, Any],
        conversation: list[dict[str, Any]],
        thinking: Any,
        seed: int | None,
        _format: type[BaseModel] | None,
    ) -> None:
        """The answer is complete: merge a stream's chunks into one response (`mot.raw`),
        read tool calls, finish reasons and ids; `conversation` (the messages as sent) is
        what `mot.generate_log.prompt` shows."""
        finish_response(mot, tools, self.service)
        mot._prompt = conversation
        if seed is not None:
            mot.generation.extra["seed"] = seed
        if thinking is not None:
            mot.generation.extra["reasoning"] = thinking

    async def _generate_raw(self, call: RawCall, mot: ModelOutputThunk[Any]) -> None:
        async def send(form: JsonForm, retry: RetryPolicy | None) -> None:
            payload = completion_payload(
                self.model_id, call, json_form=form, default_extra_body=self.default_extra_body
            )
            reader = TextAssembler(self.service)
            await self._send(COMPLETIONS_PATH, payload, call.options, mot, retry, reader)

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
        reader: Reader,
    ) -> None:
        if not options.stream:
            await reader.absorb(mot, await self._http.post_json(path, payload, mot, retry=retry))
            await reader.finish(mot)
            return
        read_timeout = self._http.stream_read_timeout(options)
        http = self._http
        async with http.open(path, payload, mot, read_timeout=read_timeout, retry=retry) as opened:
            endpoint, response = opened.endpoint, opened.response
            if "text/event-stream" not in response.headers.get("content-type", ""):
                # A server that ignores `stream` answers with one JSON body.
                await reader.absorb(mot, await endpoint.read_json(response))
                await reader.finish(mot)
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
                    await reader.finish(mot)
                    return
                chunk = decode_json_line(data, self.service)
                if event == "error" and isinstance(chunk, dict) and "error" not in chunk:
                    chunk = {"error": chunk}
                await reader.absorb(mot, chunk)
        if reader.finished(mot):  # some servers omit [DONE]
            await reader.finish(mot)
            return
        raise BackendProtocolError(f"{self.service} ended the stream before it finished")


__all__ = ["DEFAULT_OPENAI_BASE_URL", "DEFAULT_OPENAI_MODEL", "OpenAIBackend", "openai_base_urls"]
