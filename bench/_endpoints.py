"""The loopback server's two wire protocols, as mellea sessions and as raw requests.

Each `Endpoint` pairs a mellea backend with the exact request that backend sends (same
path, same JSON body), so a raw client baseline does the same work on the wire.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mellea.backends.ollama import OllamaModelBackend
from mellea.stdlib.session import MelleaSession

MODEL = "loopback"
PROMPT = "ping"


def _ollama_content(data: Any) -> str:
    return str(data["message"]["content"])


def _openai_content(data: Any) -> str:
    return str(data["choices"][0]["message"]["content"])


@dataclass(frozen=True)
class Endpoint:
    name: str
    base_url: str  # what the backend takes
    path: str  # the raw request's URL, relative to the server root
    content: Callable[[Any], str]  # the reply text from a non-streaming response body
    session: Callable[[], MelleaSession]

    def body(self, prompt: str = PROMPT, *, stream: bool = False) -> dict[str, Any]:
        messages = [{"role": "user", "content": prompt}]
        return {"model": MODEL, "messages": messages, "stream": stream}


def has_openai_backend() -> bool:
    return importlib.util.find_spec("mellea.backends.openai") is not None


def endpoints(server_url: str) -> list[Endpoint]:
    """Ollama always; the OpenAI-compatible one when mellea has that backend."""
    out = [
        Endpoint(
            "ollama",
            server_url,
            "/api/chat",
            _ollama_content,
            lambda: MelleaSession(OllamaModelBackend(MODEL, base_url=server_url)),
        )
    ]
    if has_openai_backend():
        from mellea.backends.openai import OpenAIBackend

        base = server_url + "/v1"
        out.append(
            Endpoint(
                "openai",
                base,
                "/v1/chat/completions",
                _openai_content,
                lambda: MelleaSession(OpenAIBackend(MODEL, base_url=base)),
            )
        )
    return out
