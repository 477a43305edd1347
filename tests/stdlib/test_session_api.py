"""The session and functional API in the reference's shapes: `start_backend`,
`context_type=`, `allow_context_type_change`, `ctx` assignment, `cleanup`, `powerup`,
documents and audio on chat, `generate_logs`."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import mellea
import mellea.stdlib.functional as mfuncs
from mellea.backends.ollama import OllamaModelBackend
from mellea.core import CBlock, Requirement
from mellea.core.context import ContextTypeMismatchError
from mellea.stdlib.components import Document, Instruction, Message
from mellea.stdlib.context import ChatContext, SimpleContext
from mellea.stdlib.session import MelleaSession, get_session
from mellea.stdlib.start_backend import backend_name_to_class, start_backend
from tests.servers import LoopbackServer


def bodies(srv: LoopbackServer) -> list[dict[str, Any]]:
    return [r.body for r in srv.stats().for_path("/api/chat")]


class ChatSwitchingBackend(OllamaModelBackend):
    """A user's backend that answers on a ChatContext whatever context it was given."""

    async def generate_from_context(self, action: Any, ctx: Any, **kwargs: Any) -> Any:
        mot, _ = await super().generate_from_context(action, ctx, **kwargs)
        return mot, ChatContext().add(action).add(mot)


def test_start_backend_and_backend_name_to_class(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert backend_name_to_class("ollama") is OllamaModelBackend
    assert backend_name_to_class("no-such-engine") is None
    with pytest.raises(ValueError, match="not available"):
        backend_name_to_class("hf")
    ctx, backend = start_backend("ollama", "m", base_url=loopback.url, context_type="chat")
    assert isinstance(ctx, ChatContext) and isinstance(backend, OllamaModelBackend)
    with pytest.raises(ValueError, match="either ctx= or context_type="):
        start_backend("ollama", ctx=SimpleContext(), context_type="chat")
    with pytest.raises(ValueError, match="context_type"):
        start_backend("ollama", context_type="tree")  # type: ignore[arg-type]
    monkeypatch.setenv("OLLAMA_HOST", loopback.host_port)
    m = mellea.start_session(context_type="chat")
    m.chat("one")
    m.chat("two")
    assert len(bodies(loopback)[-1]["messages"]) == 3


def test_context_type_changes_are_refused_unless_allowed(loopback: LoopbackServer) -> None:
    backend = ChatSwitchingBackend("m", base_url=loopback.url)
    with pytest.raises(ContextTypeMismatchError):
        mfuncs.act(Instruction("x"), SimpleContext(), backend)
    mot, ctx = mfuncs.act(
        Instruction("x"), SimpleContext(), backend, allow_context_type_change=True
    )
    assert isinstance(ctx, ChatContext) and mot.value == "Echo: x"
    m = MelleaSession(backend, SimpleContext())
    with pytest.raises(ContextTypeMismatchError):
        m.instruct("y")
    m = MelleaSession(backend, SimpleContext(), allow_context_type_change=True)
    m.chat("z")
    assert isinstance(m.ctx, ChatContext)


def test_ctx_is_assignable_and_checked(loopback: LoopbackServer) -> None:
    m = MelleaSession(OllamaModelBackend("m", base_url=loopback.url), ChatContext())
    m.ctx = m.ctx.add(Message("system", "Be terse."))
    m.chat("hi")
    assert bodies(loopback)[-1]["messages"][0] == {"role": "system", "content": "Be terse."}
    with pytest.raises(TypeError):
        m.ctx = "history"  # type: ignore[assignment]


def test_cleanup_ends_the_session_but_leaves_the_backend_open(loopback: LoopbackServer) -> None:
    m = MelleaSession(OllamaModelBackend("m", base_url=loopback.url), session_id="s-1")
    assert m.id == "s-1" and MelleaSession(m.backend).id != "s-1"
    m.__enter__()
    assert get_session() is m
    m.instruct("x")
    m.cleanup()
    with pytest.raises(RuntimeError):
        get_session()
    assert m.instruct("still works").value == "Echo: still works"
    m.close()


def test_powerup_adds_functions_but_never_replaces_methods(loopback: LoopbackServer) -> None:
    class Mine(MelleaSession):
        pass

    class Shout:
        def shout(self: Any, text: str) -> str:
            return str(self.instruct(text.upper()))

    Mine.powerup(Shout)
    m = Mine(OllamaModelBackend("m", base_url=loopback.url))
    assert m.shout("hi") == "Echo: HI"  # type: ignore[attr-defined]

    class Clash:
        def chat(self: Any) -> None: ...

    with pytest.raises(ValueError, match="already has chat"):
        Mine.powerup(Clash)


def test_chat_sends_documents_and_fills_user_variables(loopback: LoopbackServer) -> None:
    m = MelleaSession(OllamaModelBackend("m", base_url=loopback.url))
    reply = m.chat(
        "Summarise for {{who}}.", user_variables={"who": "Ada"},
        documents=[Document("Paris is in France.", doc_id="1")],
    )  # fmt: skip
    sent = bodies(loopback)[-1]["messages"][-1]["content"]
    assert sent == "Summarise for Ada.\n\n[Document 1]\nParis is in France."
    assert reply.role == "assistant"
    functional_reply, ctx = mfuncs.chat("plain", SimpleContext(), m.backend, documents=["d"])
    assert str(functional_reply) == "Echo: plain\n\n[Document]\nd"
    assert isinstance(ctx, SimpleContext)


def test_validate_collects_the_judge_generations(loopback: LoopbackServer) -> None:
    m = MelleaSession(OllamaModelBackend("m", base_url=loopback.url))
    logs: list[Any] = []
    results = m.validate(
        [Requirement("Be polite.")], output=CBlock("Thank you."), generate_logs=logs
    )
    assert len(results) == 1 and len(bodies(loopback)) == 1
    (log,) = logs
    assert log is results[0].thunk.generate_log  # type: ignore[union-attr]
    assert "Be polite." in str(log.prompt) and "Thank you." in str(log.prompt)


def test_signatures_have_the_reference_parameters_in_order() -> None:
    def names(fn: Any) -> list[str]:
        return [p for p in inspect.signature(fn).parameters if p != "self"]

    assert names(mfuncs.instruct)[:5] == ["description", "context", "backend", "images", "audio"]
    assert names(mfuncs.chat)[:8] == [
        "content", "context", "backend", "role", "images", "audio", "documents",
        "user_variables",
    ]  # fmt: skip
    assert names(MelleaSession.chat)[:5] == ["content", "role", "images", "audio", "documents"]
    assert "allow_context_type_change" in names(mfuncs.aquery)
    assert names(mellea.start_session)[:4] == ["backend_name", "model_id", "ctx", "context_type"]
