"""LiteLLM's client pointed at `m serve` (its OpenAI-compatible provider), sync, async and
streaming: another real client than the OpenAI SDK."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.servers import LoopbackServer

from .test_openai_sdk import echo_program

pytestmark = pytest.mark.filterwarnings("ignore:Items? .*ReadOnly:UserWarning")  # LiteLLM's own

litellm = pytest.importorskip("litellm", reason='needs LiteLLM: pip install "mellea[litellm]"')

MESSAGES: Any = [{"role": "user", "content": "one two three four"}]


def _kwargs(url: str) -> dict[str, Any]:
    # "openai/<name>": LiteLLM's OpenAI-compatible provider; the name is passed through.
    return {"model": "openai/my-program", "api_base": f"{url}/v1", "api_key": "unused"}


def test_litellm_completion(loopback: LoopbackServer, serve_program: Callable[..., str]) -> None:
    url = serve_program(echo_program(loopback))
    response = litellm.completion(messages=MESSAGES, **_kwargs(url))
    assert response.choices[0].message.content == "Echo: one two three four"
    assert response.choices[0].finish_reason == "stop"
    assert response.usage.total_tokens > 0
    assert loopback.stats().for_path("/v1/chat/completions")  # it went through the program


async def test_litellm_async_streaming(
    loopback: LoopbackServer, serve_program: Callable[..., str]
) -> None:
    loopback.configure(token_delay=0.02)
    url = serve_program(echo_program(loopback))
    stream = await litellm.acompletion(messages=MESSAGES, stream=True, **_kwargs(url))
    deltas = [c.choices[0].delta.content async for c in stream if c.choices[0].delta.content]
    assert len(deltas) >= 3 and "".join(deltas) == "Echo: one two three four"
