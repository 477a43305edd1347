"""`LiteLLMBackend`: 100+ hosted providers through `litellm.acompletion`.

Needs the extra: `pip install "mellea[litellm]"`. Importing this module does not import
litellm; constructing the backend does (so a missing extra fails there, with the hint).
Requests use the same chat-completions fields as `OpenAIBackend` (LiteLLM translates them
per provider), run on mellea's I/O loop, and its errors are mapped onto mellea's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from ..core import hooks
from ..core.errors import (
    BackendError,
    BackendProtocolError,
    BackendStatusError,
    BackendUnavailableError,
    ConnectTimeoutError,
    MelleaError,
    RateLimitedError,
    ReadTimeoutError,
)
from ..core.thunk import ModelOutputThunk
from ._chat import ChatBackend, ChatCall
from ._chat_parts import RawCall
from ._http import parse_retry_after
from ._http_config import with_injected
from ._openai_messages import prefetch_audio_urls
from ._openai_response import ChatReader, Reader, absorb_chunk, as_dict, finish_response
from ._openai_text import TextAssembler, completion_payload
from ._openai_wire import (
    OPENAI_NATIVE_ALIASES,
    JsonForm,
    StructuredOutputForm,
    build_payload,
    without_stream_fields,
)
from ._policy import (
    DEFAULT_READ_TIMEOUT_S,
    DEFAULT_SERVER_MAX_CONCURRENCY,
    NO_RETRY,
    Retrier,
    RetryPolicy,
)
from .model_ids import IBM_GRANITE_4_1_3B, ModelIdentifier
from .model_options import ResolvedOptions

if TYPE_CHECKING:
    from pydantic import BaseModel

logger = logging.getLogger("mellea")

DEFAULT_LITELLM_MODEL = f"ollama_chat/{IBM_GRANITE_4_1_3B.ollama_name}"
INSTALL_HINT = 'pip install "mellea[litellm]"'


def _import_litellm() -> Any:
    # litellm downloads a model price list when imported unless told to use its bundled
    # copy; a constructor must not touch the network, so default to the local copy.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        import litellm
    except ImportError as exc:
        raise ImportError(
            f"The LiteLLM backend requires extra dependencies: {INSTALL_HINT}"
        ) from exc
    litellm.suppress_debug_info = True  # it would otherwise print help banners to stdout
    return litellm


class LiteLLMBackend(ChatBackend):
    """Chat through LiteLLM: `model_id="<provider>/<model>"` (e.g. `anthropic/claude-...`).

    Args:
        model_id: A LiteLLM model string (default `ollama_chat/granite4.1:3b`).
        base_url: Passed as `api_base` (a LiteLLM proxy, a local server); unset for
            hosted providers, which LiteLLM locates from the model prefix.
        api_key: Passed as `api_key`; by default LiteLLM reads the provider's variable.
        model_options: Defaults for every call (per-call options win); unknown keys go
            to `litellm.acompletion` unchanged.
        timeout: Seconds a non-streaming call may take (streaming calls use
            `ModelOption.STREAM_TIMEOUT` between chunks).
        retry: Retry policy for failures before any output.
        max_concurrency: Requests in flight at once (default 256); more wait their turn.
    """

    provider: ClassVar[str] = "litellm"
    service: ClassVar[str] = "LiteLLM"
    native_aliases: ClassVar[Mapping[str, str]] = OPENAI_NATIVE_ALIASES

    def __init__(
        self,
        model_id: str | ModelIdentifier = DEFAULT_LITELLM_MODEL,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        model_options: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        max_concurrency: int | None = DEFAULT_SERVER_MAX_CONCURRENCY,
    ) -> None:
        self._litellm = _import_litellm()
        super().__init__(model_id, model_options=model_options)
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1 or None, got {max_concurrency!r}")
        self.base_url = base_url.rstrip("/") if base_url else None
        self._api_key = api_key
        self.timeout = DEFAULT_READ_TIMEOUT_S if timeout is None else float(timeout)
        self.retry = retry or RetryPolicy()
        self.max_concurrency = max_concurrency
        self._slots: asyncio.Semaphore | None = None  # created on the I/O loop
        self._json_form = StructuredOutputForm()

    def _with_defaults(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.base_url is not None:
            kwargs.setdefault("api_base", self.base_url)
        if self._api_key is not None:
            kwargs.setdefault("api_key", self._api_key)
        kwargs.setdefault("timeout", self.timeout)
        # Parameters a provider does not support are dropped rather than failing the call;
        # retries are ours (before any output only), not LiteLLM's.
        kwargs.setdefault("drop_params", True)
        kwargs["num_retries"] = 0
        return kwargs

    def request_description(self, call: ChatCall) -> dict[str, Any]:
        # The body without where it goes and how (api_base, api_key, timeout, retries).
        payload = build_payload(self.model_id, call, merge_extra_body=False, fetch_media=False)
        return without_stream_fields(payload)

    def raw_request_description(self, call: RawCall) -> dict[str, Any]:
        payload = completion_payload(self.model_id, call, merge_extra_body=False)
        return without_stream_fields(payload)

    def _kwargs(self, call: ChatCall, json_form: JsonForm = "json_schema") -> dict[str, Any]:
        kwargs = build_payload(self.model_id, call, json_form=json_form, merge_extra_body=False)
        return self._with_defaults(kwargs)

    async def _generate(self, call: ChatCall, mot: ModelOutputThunk[Any]) -> None:
        await prefetch_audio_urls(call.messages)  # no provider takes audio by URL

        async def send(form: JsonForm, retry: RetryPolicy) -> None:
            kwargs = self._kwargs(call, form)
            conversation = kwargs["messages"]

            async def done(m: ModelOutputThunk[Any]) -> None:
                await self.post_processing(
                    m, conversation, call.tools, call.options.thinking, call.format
                )

            reader = ChatReader(self.processing, done)
            await self._send(self._litellm.acompletion, kwargs, call.options, mot, retry, reader)

        await self._send_with_json_form(send, call.json_schema is not None, mot)

    async def processing(self, mot: ModelOutputThunk[Any], chunk: Any) -> None:
        """One LiteLLM answer object (`ModelResponse`, or a stream's
        `ModelResponseStream`) into `mot`: text and reasoning at once, the object kept."""
        absorb_chunk(mot, as_dict(chunk), self.service)

    async def post_processing(
        self,
        mot: ModelOutputThunk[Any],
        conversation: list[dict[str, Any]],
        tools: Mapping[str, Any],
        thinking: Any,
        _format: type[BaseModel] | None,
    ) -> None:
        """The answer is complete: merge a stream into one response, read tool calls and
        finish reasons; `conversation` is the prompt `mot.generate_log` shows."""
        finish_response(mot, tools, self.service)
        mot._prompt = conversation
        if thinking is not None:
            mot.generation.extra["reasoning"] = thinking

    async def _generate_raw(self, call: RawCall, mot: ModelOutputThunk[Any]) -> None:
        async def send(form: JsonForm, retry: RetryPolicy) -> None:
            kwargs = completion_payload(self.model_id, call, json_form=form, merge_extra_body=False)
            request = self._litellm.atext_completion
            reader = TextAssembler(self.service)
            await self._send(request, self._with_defaults(kwargs), call.options, mot, retry, reader)

        await self._send_with_json_form(send, call.json_schema is not None, mot)

    async def _send_with_json_form(
        self,
        send: Callable[[JsonForm, RetryPolicy], Awaitable[None]],
        structured: bool,
        mot: ModelOutputThunk[Any],
    ) -> None:
        """`send` once; with a JSON schema, in the `response_format` form the server takes."""
        if not structured:
            await send("json_schema", self.retry)
            return

        async def probe(form: JsonForm, probing: bool) -> None:
            await send(form, NO_RETRY if probing else self.retry)

        await self._json_form.run(probe, mot, self.service)

    async def _send(
        self,
        request: Callable[..., Awaitable[Any]],
        kwargs: dict[str, Any],
        options: ResolvedOptions,
        mot: ModelOutputThunk[Any],
        retry: RetryPolicy,
        reader: Reader,
    ) -> None:
        if self.max_concurrency is not None and self._slots is None:
            self._slots = asyncio.Semaphore(self.max_concurrency)
        retrier = Retrier(retry, mot)  # the same retry rules as the HTTP backends
        while True:
            retrier.attempt()
            try:
                # A slot per attempt: no slot is held while waiting to retry.
                async with self._slots or contextlib.nullcontext():
                    await self._once(request, kwargs, options, mot, reader)
                return
            except MelleaError as exc:
                error = exc
            except Exception as exc:
                error = self._map_error(exc, started=bool(mot.partial_value or mot.tool_calls))
                error.__cause__ = exc
            await retrier.backoff(error)  # sleeps, or raises

    async def _once(
        self,
        request: Callable[..., Awaitable[Any]],
        kwargs: dict[str, Any],
        options: ResolvedOptions,
        mot: ModelOutputThunk[Any],
        reader: Reader,
    ) -> None:
        mot.raw.response = mot.raw.streamed_chunks = None  # a retry starts afresh
        inject = hooks.outbound_headers  # None unless an observer (tracing) is on
        if inject is not None:
            headers = with_injected(inject, kwargs.get("extra_headers"))
            if headers:
                kwargs = {**kwargs, "extra_headers": headers}
        if not options.stream:
            await reader.absorb(mot, as_dict(await request(**kwargs)))
            await reader.finish(mot)
            return
        stream = await request(**kwargs)
        try:
            async for chunk in _with_chunk_timeout(stream, options.stream_timeout):
                await reader.absorb(mot, as_dict(chunk))
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:  # abandoning a stream must close its connection
                await aclose()
        await reader.finish(mot)

    def _map_error(self, exc: Exception, *, started: bool) -> MelleaError:
        import httpx

        litellm = self._litellm
        where = f"{self.service} ({self.model_id})"
        # LiteLLM wraps the transport's exception (sometimes as an HTTP 500 "Connection
        # error"); the chain tells what really happened.
        chain = _chain(exc)
        if any(isinstance(e, httpx.ConnectTimeout) for e in chain):
            return ConnectTimeoutError(f"{where}: connecting to the provider timed out: {exc}")
        if isinstance(exc, litellm.Timeout):
            return ReadTimeoutError(f"{where} timed out (raise timeout=): {exc}")
        names = {type(e).__name__ for e in chain}
        if started or "MidStreamFallbackError" in names:
            return BackendProtocolError(f"{where}: the stream broke after it had started: {exc}")
        if any(isinstance(e, httpx.ConnectError | ConnectionRefusedError) for e in chain) or (
            "ClientConnectorError" in names
        ):
            return BackendUnavailableError(f"{where} could not reach the provider: {exc}")
        if any(isinstance(e, httpx.RemoteProtocolError | httpx.ReadError) for e in chain):
            return BackendProtocolError(f"{where}: the provider dropped the connection: {exc}")
        if isinstance(exc, litellm.APIConnectionError):
            return BackendUnavailableError(f"{where} could not reach the provider: {exc}")
        status = getattr(exc, "status_code", None)
        if isinstance(status, int) and 400 <= status <= 599:
            cls = RateLimitedError if status == 429 else BackendStatusError
            headers = getattr(getattr(exc, "response", None), "headers", None) or {}
            return cls(
                f"{where} answered HTTP {status}: {exc}", status_code=status, body=str(exc),
                retry_after=parse_retry_after(headers.get("retry-after")),
            )  # fmt: skip
        return BackendError(f"{where} failed: {exc!r}")


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and the exceptions it was raised from (bounded: chains can be cyclic)."""
    out: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(out) < 12 and seen not in out:
        out.append(seen)
        seen = seen.__cause__ or seen.__context__
    return out


async def _with_chunk_timeout(stream: Any, seconds: float | None) -> AsyncIterator[Any]:
    iterator = stream.__aiter__()
    while True:
        try:
            async with asyncio.timeout(seconds):
                chunk = await iterator.__anext__()
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise ReadTimeoutError(f"LiteLLM stream went silent for {seconds} s") from None
        yield chunk


__all__ = ["DEFAULT_LITELLM_MODEL", "INSTALL_HINT", "LiteLLMBackend"]
