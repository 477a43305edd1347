"""Cache keys: every field that determines the answer changes the key; nothing else does.

Each case sends a baseline call, then a variant, through one `CachedBackend` against the
loopback server: the variant must be a miss (a second request reaches the server) or a
hit (none does), as the field demands.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

from mellea.backends import ModelOption
from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.openai import OpenAIBackend
from mellea.backends.response_cache import CachedBackend, canonical, request_key
from mellea.backends.tools import tool
from mellea.stdlib.context import ChatContext
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer

GREEDY = {ModelOption.TEMPERATURE: 0}


class Person(BaseModel):
    name: str


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


Call = Callable[[MelleaSession], Any]


def _instruct(prompt: str = "ping", **options: Any) -> Call:
    def run(m: MelleaSession) -> Any:
        return m.instruct(prompt, model_options={**GREEDY, **options})

    return run


def _with(model_options: dict[str, Any] | None = None, **kw: Any) -> Call:
    def run(m: MelleaSession) -> Any:
        return m.instruct("ping", model_options={**GREEDY, **(model_options or {})}, **kw)

    return run


def _chat_after(history: str) -> Call:
    def run(m: MelleaSession) -> Any:
        m.ctx = ChatContext()
        m.chat(history, model_options=GREEDY)
        m.chat("ping", model_options=GREEDY)
        return m.ctx.last_output()

    return run


MUST_MISS: dict[str, Call] = {
    "prompt": _instruct("pong"),
    "system prompt": _instruct(**{ModelOption.SYSTEM_PROMPT: "Be brief."}),
    "temperature": _instruct(**{ModelOption.TEMPERATURE: 0.5, ModelOption.SEED: 1}),
    "seed": _instruct(**{ModelOption.SEED: 7}),
    "max tokens": _instruct(**{ModelOption.MAX_NEW_TOKENS: 5}),
    "stop sequences": _instruct(**{ModelOption.STOP_SEQUENCES: ["x"]}),
    "native sampling option": _instruct(top_p=0.5),
    "thinking": _instruct(**{ModelOption.THINKING: True}),
    "format schema": _with(format=Person),
    "tools": _with(model_options={ModelOption.TOOLS: [add]}, tool_calls=True),
}
MUST_HIT: dict[str, Call] = {
    "same call": _instruct(),
    "stream flag": _instruct(**{ModelOption.STREAM: True}),
    "call deadline": _instruct(**{ModelOption.TIMEOUT: 30}),
    "stream timeout": _instruct(**{ModelOption.STREAM_TIMEOUT: 9}),
    "temperature as float": _instruct(**{ModelOption.TEMPERATURE: 0.0}),
}


def _session(srv: LoopbackServer, kind: str, **kw: Any) -> MelleaSession:
    if kind == "ollama":
        return MelleaSession(CachedBackend(OllamaModelBackend("m1", base_url=srv.url, **kw)))
    return MelleaSession(CachedBackend(OpenAIBackend("m1", base_url=srv.openai_base_url, **kw)))


def _requests(srv: LoopbackServer) -> int:
    return len([r for r in srv.stats().requests if r.path.endswith(("/api/chat", "/completions"))])


@pytest.mark.parametrize("kind", ["ollama", "openai"])
@pytest.mark.parametrize("field", sorted(MUST_MISS))
def test_a_field_that_determines_the_answer_changes_the_key(
    loopback_session: LoopbackServer, kind: str, field: str
) -> None:
    loopback_session.reset()
    m = _session(loopback_session, kind)
    _instruct()(m)
    mot = MUST_MISS[field](m)
    assert mot.generation.extra["cache"] == "miss"
    assert _requests(loopback_session) == 2


@pytest.mark.parametrize("kind", ["ollama", "openai"])
@pytest.mark.parametrize("field", sorted(MUST_HIT))
def test_a_field_that_does_not_keeps_the_key(
    loopback_session: LoopbackServer, kind: str, field: str
) -> None:
    loopback_session.reset()
    m = _session(loopback_session, kind)
    first = _instruct()(m)
    mot = MUST_HIT[field](m)
    assert mot.generation.extra["cache"] == "hit" and mot.value == first.value
    assert _requests(loopback_session) == 1


@pytest.mark.parametrize("kind", ["ollama", "openai"])
def test_a_native_alias_is_the_same_option(loopback_session: LoopbackServer, kind: str) -> None:
    loopback_session.reset()
    m = _session(loopback_session, kind)
    _instruct(**{ModelOption.SEED: 3, ModelOption.STOP_SEQUENCES: ["z"]})(m)
    assert _instruct(seed=3, stop=["z"])(m).generation.extra["cache"] == "hit"


def test_tool_choice_changes_the_key_where_it_is_sent(loopback_session: LoopbackServer) -> None:
    loopback_session.reset()
    m = _session(loopback_session, "openai")
    tools = {ModelOption.TOOLS: [add]}
    _with(model_options=tools, tool_calls=True)(m)
    chosen = _with(model_options={**tools, ModelOption.TOOL_CHOICE: "add"}, tool_calls=True)(m)
    assert chosen.generation.extra["cache"] == "miss"


def test_chat_history_changes_the_key(loopback_session: LoopbackServer) -> None:
    loopback_session.reset()
    m = _session(loopback_session, "ollama")
    _chat_after("hello")(m)
    again = _chat_after("hello")(m)
    assert again.generation.extra["cache"] == "hit"
    other = _chat_after("good morning")(m)
    assert other.generation.extra["cache"] == "miss"
    sent = loopback_session.stats().for_path("/api/chat")[-1].body["messages"]
    assert sent[0]["content"] == "good morning"  # the history really was sent


def test_backend_kind_and_model_change_the_key(loopback_session: LoopbackServer) -> None:
    """Two wrappers over one store: the same prompt on another engine or model is a miss."""
    from mellea.backends.response_cache import MemoryStore

    loopback_session.reset()
    store = MemoryStore()
    backends = [
        OllamaModelBackend("m1", base_url=loopback_session.url),
        OllamaModelBackend("m2", base_url=loopback_session.url),
        OpenAIBackend("m1", base_url=loopback_session.openai_base_url),
    ]
    for backend in backends:
        mot = MelleaSession(CachedBackend(backend, store)).instruct("ping", model_options=GREEDY)
        assert mot.generation.extra["cache"] == "miss"
    again = MelleaSession(CachedBackend(backends[0], store)).instruct("ping", model_options=GREEDY)
    assert again.generation.extra["cache"] == "hit"


def test_credentials_timeouts_and_transport_do_not_change_the_key(
    loopback_session: LoopbackServer,
) -> None:
    from mellea.backends.response_cache import MemoryStore

    loopback_session.reset()
    store = MemoryStore()
    plain = OpenAIBackend("m1", base_url=loopback_session.openai_base_url)
    dressed = OpenAIBackend(
        "m1", base_url=loopback_session.openai_base_url, api_key="sk-secret", timeout=7,
        default_headers={"x-team": "a"}, max_concurrency=3,
    )  # fmt: skip
    MelleaSession(CachedBackend(plain, store)).instruct("ping", model_options=GREEDY)
    mot = MelleaSession(CachedBackend(dressed, store)).instruct("ping", model_options=GREEDY)
    assert mot.generation.extra["cache"] == "hit"
    ollama = OllamaModelBackend("m1", base_url=loopback_session.url)
    MelleaSession(CachedBackend(ollama, store)).instruct("ping", model_options=GREEDY)
    kept = MelleaSession(CachedBackend(ollama, store)).instruct(
        "ping", model_options={**GREEDY, "keep_alive": "5m"}
    )
    assert kept.generation.extra["cache"] == "hit"


def test_canonical_form() -> None:
    assert canonical({"t": 0.0, "n": 1.5, "b": True, "l": (1, 2)}) == {
        "t": 0, "n": 1.5, "b": True, "l": [1, 2],
    }  # fmt: skip
    secrets = {"api_key": "sk-1", "Authorization": "Bearer x", "api_base": "http://u:p@h"}
    assert canonical({"body": {**secrets, "x": 1}}) == {"body": {"x": 1}}
    assert canonical({"m": Person(name="a")}) == {"m": {"name": "a"}}
    assert request_key({"a": 1, "b": 2}) == request_key(canonical({"b": 2, "a": 1.0}))
    assert request_key({"a": 1}) != request_key({"a": 2})
