"""`OllamaModelBackend`: Ollama's HTTP API (`/api/chat`, NDJSON streaming) over aiohttp."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from ..core.errors import BackendError, BackendProtocolError, InvalidOptionError
from ..core.thunk import ModelOutputThunk
from ._chat import ChatBackend, ChatCall
from ._http import HttpEndpoint, decode_json_line
from ._http_config import Cert, Verify
from ._policy import DEFAULT_MAX_CONCURRENCY, RetryPolicy, Timeout
from ._replicas import Admission, ReplicaSet
from .formatter import ChatMessage
from .model_ids import IBM_GRANITE_4_1_3B, ModelIdentifier
from .model_options import ModelOption, resolve_options
from .tools import add_tool_call, parse_tool_call

DEFAULT_OLLAMA_PORT = 11434
DEFAULT_OLLAMA_MODEL = IBM_GRANITE_4_1_3B
_TOP_LEVEL_KEYS = frozenset({"keep_alive", "think", "format"})
# Ollama ignores an option it does not know (it only logs a warning on the server), so a
# typo would silently change nothing: unknown keys are rejected here instead.
_OLLAMA_OPTIONS = frozenset(
    "num_keep seed num_predict top_k top_p min_p typical_p repeat_last_n temperature "
    "repeat_penalty presence_penalty frequency_penalty penalize_newline stop tfs_z mirostat "
    "mirostat_tau mirostat_eta num_ctx num_batch num_gpu main_gpu use_mmap use_mlock "
    "num_thread numa low_vram vocab_only".split()
)


def check_ollama_options(extra: Mapping[str, Any], allowed: frozenset[str] = frozenset()) -> None:
    """Reject model options that Ollama would silently ignore (typos, other backends').

    `allowed` names options to pass through anyway (e.g. one newer than this list).
    """
    import difflib

    known = _OLLAMA_OPTIONS | _TOP_LEVEL_KEYS | allowed
    for key in extra:
        if key in known:
            continue
        mellea_keys = [k.lower() for k in vars(ModelOption) if k.isupper()]
        close = difflib.get_close_matches(key, sorted(known), n=1) or [
            f"ModelOption.{k.upper()}" for k in difflib.get_close_matches(key, mellea_keys, n=1)
        ]
        suggestion = f"; did you mean {close[0]}?" if close else ""
        raise InvalidOptionError(
            f"Ollama has no model option {key!r}{suggestion} (it would be ignored); "
            "use the ModelOption keys or Ollama's own option names"
        )


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


class OllamaModelBackend(ChatBackend):
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
        extra_option_names: Ollama option names to accept beyond the built-in list (unknown
            names are rejected because Ollama silently ignores them).
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
        *,
        base_url: str | None = None,
        model_options: Mapping[str, Any] | None = None,
        timeout: float | Timeout | None = None,
        retry: RetryPolicy | None = None,
        max_concurrency: int | None = DEFAULT_MAX_CONCURRENCY,
        extra_option_names: Iterable[str] = (),
        verify: Verify = True,
        cert: Cert = None,
    ) -> None:
        super().__init__(model_id, model_options=model_options)
        self._allowed_options = frozenset(extra_option_names)
        check_ollama_options(self._options_extra(self.model_options), self._allowed_options)
        self.base_url = ollama_base_url(base_url)
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

    def _options_extra(self, model_options: Mapping[str, Any]) -> dict[str, Any]:
        return resolve_options(model_options, native_aliases=self.native_aliases).extra

    def _admission(self) -> Admission | None:
        return self._http.admission

    async def aclose(self) -> None:
        await self._http.aclose()

    def _payload(self, call: ChatCall) -> dict[str, Any]:
        opts = call.options
        check_ollama_options(opts.extra, self._allowed_options)
        options: dict[str, Any] = {}
        payload: dict[str, Any] = {
            "model": self.model_id,
            "messages": [_wire_message(m) for m in call.messages],
            "stream": opts.stream,
        }
        for key, value in opts.extra.items():
            (payload if key in _TOP_LEVEL_KEYS else options)[key] = value
        if opts.temperature is not None:
            options["temperature"] = opts.temperature
        if opts.max_tokens is not None:
            options["num_predict"] = opts.max_tokens
        if opts.seed is not None:
            options["seed"] = opts.seed
        if opts.stop:
            options["stop"] = opts.stop
        if opts.context_window is not None:
            options["num_ctx"] = opts.context_window
        if opts.thinking is not None:
            payload["think"] = opts.thinking
        if call.json_schema is not None:
            payload["format"] = call.json_schema
        if options:
            payload["options"] = options
        if call.tools:
            payload["tools"] = [t.as_json_tool for t in call.tools.values()]
        return payload

    def request_description(self, call: ChatCall) -> dict[str, Any]:
        payload = self._payload(call)
        for key in ("stream", "keep_alive"):  # how and how long, not what is answered
            payload.pop(key, None)
        return payload

    async def _generate(self, call: ChatCall, mot: ModelOutputThunk[Any]) -> None:
        payload = self._payload(call)
        if not call.options.stream:
            data = await self._http.post_json("/api/chat", payload, mot)
            self._absorb(data, mot, call)
            return
        http = self._http
        read_timeout = http.stream_read_timeout(call.options)
        async with http.open("/api/chat", payload, mot, read_timeout=read_timeout) as opened:
            async for line in opened.endpoint.iter_lines(opened.response):
                data = decode_json_line(line, "Ollama")
                self._absorb(data, mot, call)
                if data.get("done"):
                    return
        raise BackendProtocolError("Ollama ended the stream without its final `done` line")

    @staticmethod
    def _absorb(data: Any, mot: ModelOutputThunk[Any], call: ChatCall) -> None:
        if not isinstance(data, dict):
            raise BackendProtocolError(f"Ollama sent an unexpected object: {data!r:.200}")
        if "error" in data:
            raise BackendError(f"Ollama reported an error: {data['error']}")
        message = data.get("message") or {}
        content = message.get("content")
        if content:
            mot._feed(content)
        for i, wire in enumerate(message.get("tool_calls") or ()):
            fn = wire.get("function") or {}
            tc = parse_tool_call(fn.get("name", ""), fn.get("arguments"), call.tools, f"call_{i}")
            mot.tool_calls = add_tool_call(mot.tool_calls, tc)
        if message.get("thinking"):
            thinking = mot.generation.extra.get("thinking", "")
            mot.generation.extra["thinking"] = thinking + message["thinking"]
        if data.get("done"):
            gen = mot.generation
            prompt, completion = data.get("prompt_eval_count", 0), data.get("eval_count", 0)
            gen.usage = {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            }
            if data.get("done_reason"):
                gen.finish_reasons = [data["done_reason"]]


def _wire_message(message: ChatMessage) -> dict[str, Any]:
    """OpenAI-style message -> Ollama's (tool-call arguments are objects, not strings)."""
    if "tool_calls" not in message and "tool_call_id" not in message:
        return message
    import json

    out = {k: v for k, v in message.items() if k not in ("tool_calls", "tool_call_id")}
    if "tool_calls" in message:
        out["tool_calls"] = [
            {"function": {"name": c["function"]["name"],
                          "arguments": json.loads(c["function"]["arguments"] or "{}")}}
            for c in message["tool_calls"]
        ]  # fmt: skip
    return out


__all__ = ["DEFAULT_OLLAMA_MODEL", "OllamaModelBackend", "ollama_base_url"]
