"""`OllamaModelBackend`: Ollama's HTTP API (`/api/chat`, NDJSON streaming) over aiohttp."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from .._runtime.portal import run_sync
from ..core.errors import BackendProtocolError, BackendStatusError
from ..core.thunk import ModelOutputThunk
from ._adapters import NoAdapters, refuse_adapter_arguments
from ._chat import ChatBackend, ChatCall
from ._chat_parts import RawCall
from ._http import HttpEndpoint, decode_json_line
from ._http_config import Cert, Verify
from ._ollama_wire import (
    absorb,
    chat_payload,
    generate_payload,
    merge_response,
    prefetch_images,
    unknown_option_warnings,
)
from ._policy import DEFAULT_MAX_CONCURRENCY, NO_RETRY, RetryPolicy, Timeout
from ._replicas import Admission, ReplicaSet
from .model_ids import IBM_GRANITE_4_1_3B, ModelIdentifier
from .model_options import ModelOption, ResolvedOptions

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ..core.base import CBlock, Component
    from ..core.context import Context

logger = logging.getLogger("mellea")

DEFAULT_OLLAMA_PORT = 11434
DEFAULT_OLLAMA_MODEL = IBM_GRANITE_4_1_3B


def ollama_base_url(base_url: str | None = None) -> str:
    """`base_url`, else `OLLAMA_HOST` (host, host:port or URL), else 127.0.0.1:11434."""
    raw = base_url or os.environ.get("OLLAMA_HOST") or f"127.0.0.1:{DEFAULT_OLLAMA_PORT}"
    if "://" not in raw:
        raw = "http://" + raw
    parts = urlsplit(raw)
    host = parts.hostname or "127.0.0.1"
    if host in ("0.0.0.0", "::"):  # a bind-all address: the server is reachable locally
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    port = parts.port or DEFAULT_OLLAMA_PORT
    return f"{parts.scheme}://{host}:{port}{parts.path.rstrip('/')}"


def _without_delivery_fields(payload: dict[str, Any]) -> dict[str, Any]:
    """`payload` less how and how long the answer is kept (`stream`, `keep_alive`), not
    what is answered."""
    for key in ("stream", "keep_alive"):
        payload.pop(key, None)
    return payload


class OllamaModelBackend(NoAdapters, ChatBackend):
    """Chat with a model served by Ollama.

    Args:
        model_id: Ollama model name (default `granite4.1:3b`) or a `model_ids` constant.
        base_url: Server URL; defaults to `OLLAMA_HOST`, then `http://127.0.0.1:11434`.
        model_options: Defaults for every call (per-call options win).
        timeout: Seconds for each phase — connect (at most 10 s), write, and each read wait,
            streamed chunks included unless `ModelOption.STREAM_TIMEOUT` is set — or a
            `Timeout` per phase (`mellea.backends._policy`; its `pool` bounds the wait for
            a request slot). `ModelOption.TIMEOUT` is the deadline of a whole call,
            retries included.
        retry: Retry policy for failures before any output (see `mellea.backends._policy`).
        max_concurrency: Requests in flight at once (default 64); more wait their turn.
        verify: TLS verification for an https URL: True (system CA store), False, a CA
            bundle path, or an `ssl.SSLContext`.
        cert: A client certificate: PEM path, `(certfile, keyfile)` or with a password.
        extra_option_names: Ollama option names to accept without a warning beyond the
            built-in list (Ollama silently ignores options it does not know, so an unknown
            name is sent but logged once as a likely typo).
        host: Another name for `base_url` (as in the Ollama client).
        formatter: A `ChatFormatter` rendering components into messages (None: mellea's).
        adapter_models, adapter_base_model_name: adapter (LoRA) models; not supported yet
            (giving any raises `NotImplementedError`). default_to_constraint_checking_alora:
            accepted for compatibility; without adapters it changes nothing.

    Plain completions (`generate_from_raw`) go to `/api/generate` with `raw: true`.
    """

    provider: ClassVar[str] = "ollama"
    native_aliases: ClassVar[Mapping[str, str]] = {
        "num_predict": ModelOption.MAX_NEW_TOKENS,
        "seed": ModelOption.SEED,
        "stop": ModelOption.STOP_SEQUENCES,
        "num_ctx": ModelOption.CONTEXT_WINDOW,
        "think": ModelOption.THINKING,
    }

    def __init__(
        self,
        model_id: str | ModelIdentifier = DEFAULT_OLLAMA_MODEL,
        formatter: Any = None,
        base_url: str | None = None,
        model_options: Mapping[str, Any] | None = None,
        timeout: float | Timeout | None = None,
        adapter_models: dict[str, str] | None = None,
        adapter_base_model_name: str | None = None,
        default_to_constraint_checking_alora: bool = True,
        *,
        retry: RetryPolicy | None = None,
        max_concurrency: int | None = DEFAULT_MAX_CONCURRENCY,
        extra_option_names: Iterable[str] = (),
        verify: Verify = True,
        cert: Cert = None,
        host: str | None = None,
    ) -> None:
        refuse_adapter_arguments(
            "OllamaModelBackend", adapter_models=adapter_models,
            adapter_base_model_name=adapter_base_model_name,
        )  # fmt: skip
        self._allowed_options = frozenset(extra_option_names)
        self._warned_options: set[str] = set()
        super().__init__(model_id, formatter, model_options=model_options)
        self.base_url = ollama_base_url(base_url or host)
        endpoint = HttpEndpoint(
            self.base_url,
            service="Ollama",
            unavailable_hint=(
                "start it with `ollama serve`, set OLLAMA_HOST, or use "
                "start_session('local') for the embedded model"
            ),
            status_hints={404: f"is the model pulled? `ollama pull {self.model_id}`"},
            timeout=timeout, max_concurrency=max_concurrency, verify=verify, cert=cert,
        )  # fmt: skip
        self._http = ReplicaSet([endpoint], retry=retry)

    def _check_options(self, options: ResolvedOptions) -> None:
        super()._check_options(options)
        # Ollama ignores options it does not know; say so once per name (a typo?).
        for warning in unknown_option_warnings(options.extra, self._allowed_options):
            if warning not in self._warned_options:
                self._warned_options.add(warning)
                logger.warning(warning)

    def _admission(self) -> Admission | None:
        return self._http.admission

    async def aclose(self) -> None:
        await self._http.aclose()

    def _payload(self, call: ChatCall, fetch_media: bool = True) -> dict[str, Any]:
        tools = [t.as_json_tool for t in call.tools.values()]
        return chat_payload(
            self.model_id, call.messages, call.options, call.json_schema, tools, fetch_media
        )

    def request_description(self, call: ChatCall) -> dict[str, Any]:
        # (no download to describe a call)
        return _without_delivery_fields(self._payload(call, fetch_media=False))

    def raw_request_description(self, call: RawCall) -> dict[str, Any]:
        return _without_delivery_fields(
            generate_payload(self.model_id, call.prompt, call.options, call.json_schema)
        )

    async def _post(
        self,
        path: str,
        payload: dict[str, Any],
        mot: ModelOutputThunk[Any],
        tools: Mapping[str, Any],
        options: ResolvedOptions,
    ) -> None:
        """Send a generation and read its answer (one object, or NDJSON lines) into `mot`."""
        if not options.stream:
            await self.processing(mot, await self._http.post_json(path, payload, mot), tools)
            return
        http = self._http
        read_timeout = http.stream_read_timeout(options)
        async with http.open(path, payload, mot, read_timeout=read_timeout) as opened:
            async for line in opened.endpoint.iter_lines(opened.response):
                chunk = decode_json_line(line, "Ollama")
                await self.processing(mot, chunk, tools)
                if chunk.get("done"):
                    return
        raise BackendProtocolError("Ollama ended the stream without its final `done` line")

    async def processing(
        self, mot: ModelOutputThunk[Any], chunk: Any, tools: Mapping[str, Any]
    ) -> None:
        """One Ollama response object (a whole answer or a streamed line) into `mot`: text,
        reasoning and tool calls at once, usage at the end; merged into `mot.raw.response`."""
        absorb(chunk, mot, tools)
        chat_response_delta_merge(mot, chunk)

    async def post_processing(
        self,
        mot: ModelOutputThunk[Any],
        conversation: list[dict[str, Any]],
        tools: Mapping[str, Any],
        _format: type[BaseModel] | None,
    ) -> None:
        """The answer is complete: `conversation` (the messages as sent) is the prompt
        `mot.generate_log` shows."""
        mot._prompt = conversation

    async def _generate_raw(self, call: RawCall, mot: ModelOutputThunk[Any]) -> None:
        payload = generate_payload(self.model_id, call.prompt, call.options, call.json_schema)
        await self._post("/api/generate", payload, mot, {}, call.options)

    async def ais_model_available(self, model_name: str) -> bool:
        """Whether the server has `model_name` (pulled): asks `/api/show`."""
        try:
            async with self._http.open("/api/show", {"model": model_name}, retry=NO_RETRY):
                return True
        except BackendStatusError as exc:
            if exc.status_code == 404:
                return False
            raise

    def is_model_available(self, model_name: str) -> bool:
        """Blocking `ais_model_available` (raises `BackendUnavailableError` when no Ollama
        answers)."""
        return run_sync(self.ais_model_available(model_name))

    async def _generate(self, call: ChatCall, mot: ModelOutputThunk[Any]) -> None:
        for message in call.messages:
            if message.get("images"):
                await prefetch_images(call.messages)  # Ollama takes images inline
                break
        payload = self._payload(call)
        await self._post("/api/chat", payload, mot, call.tools, call.options)
        await self.post_processing(mot, payload["messages"], call.tools, call.format)

    async def generate_from_chat_context(
        self,
        action: Component[Any] | CBlock,
        ctx: Context,
        *,
        _format: type[BaseModel] | None = None,
        model_options: dict[str, Any] | None = None,
        tool_calls: bool = False,
    ) -> ModelOutputThunk[Any]:
        """`generate_from_context` with the history sent as chat messages; returns only the
        thunk (the reference's lower-level entry point)."""
        mot, _ = await self.generate_from_context(
            action, ctx, format=_format, model_options=model_options, tool_calls=tool_calls
        )
        return mot


def chat_response_delta_merge(mot: ModelOutputThunk[Any], delta: Any) -> None:
    """Fold one streamed Ollama response object into `mot.raw.response` (text and reasoning
    concatenated, tool calls appended, the final line's counters and reasons kept)."""
    data = delta.model_dump() if hasattr(delta, "model_dump") else delta
    if isinstance(data, Mapping):
        mot.raw.response = merge_response(mot.raw.response, data)


__all__ = [
    "DEFAULT_OLLAMA_MODEL",
    "OllamaModelBackend",
    "chat_response_delta_merge",
    "ollama_base_url",
]
