"""Images and audio on each engine's wire, and the GenerateLog every generation leaves
(prompt as sent, backend, options, the provider's answer, the action)."""

from __future__ import annotations

import base64
import http.server
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from mellea.backends import ModelOption
from mellea.backends.dummy import DummyBackend
from mellea.backends.litellm import LiteLLMBackend
from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.openai import OpenAIBackend
from mellea.core import AudioBlock, AudioUrlBlock, GenerateLog, ImageBlock, ImageUrlBlock
from mellea.core.errors import InvalidOptionError
from mellea.stdlib.components import Instruction, Message
from mellea.stdlib.context import ChatContext
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer, Reply

PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)
PNG = base64.b64encode(PNG_BYTES).decode()
WAV_BYTES = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(28)
WAV = base64.b64encode(WAV_BYTES).decode()


@pytest.fixture
def media_server() -> Iterator[str]:
    """A plain file server on 127.0.0.1 for media given by URL."""
    files = {"/cat.png": PNG_BYTES, "/hello.wav": WAV_BYTES}
    served: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.append(self.path)
            body = files.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def last_body(srv: LoopbackServer, path: str) -> dict[str, Any]:
    return srv.stats().for_path(path)[-1].body


# ----- images and audio -------------------------------------------------------------------


def test_ollama_gets_images_as_a_base64_list(loopback: LoopbackServer, media_server: str) -> None:
    m = MelleaSession(OllamaModelBackend("llava", base_url=loopback.url), ctx=ChatContext())
    reply = m.instruct(
        "Is there a cat?", images=[ImageBlock(PNG), ImageUrlBlock(f"{media_server}/cat.png")]
    )
    assert reply.value == "Echo: Is there a cat?"
    (message,) = last_body(loopback, "/api/chat")["messages"]
    assert message["images"] == [PNG, PNG]  # the URL was downloaded: Ollama takes bytes only
    # The image stays in the history: the next turn sends it again (docs: multi-turn vision).
    m.chat("How many eyes?")
    history = last_body(loopback, "/api/chat")["messages"]
    assert history[0]["images"] == [PNG, PNG] and "images" not in history[2]


def test_ollama_refuses_audio_and_unreachable_image_urls(
    loopback: LoopbackServer, media_server: str
) -> None:
    m = MelleaSession(OllamaModelBackend("m", base_url=loopback.url))
    with pytest.raises(InvalidOptionError, match="takes no audio"):
        m.act(Message("user", "hear this", audio=[AudioBlock(WAV, "wav")]))
    with pytest.raises(InvalidOptionError, match="could not fetch the image"):
        m.instruct("see", images=[ImageUrlBlock(f"{media_server}/missing.png")])
    assert loopback.stats().total_requests == 0  # refused before anything was sent


@pytest.mark.parametrize("backend_kind", ["openai", "litellm"])
def test_openai_wire_gets_image_and_audio_parts(
    loopback: LoopbackServer, media_server: str, backend_kind: str
) -> None:
    if backend_kind == "openai":
        backend: Any = OpenAIBackend("gpt-4o", base_url=loopback.openai_base_url)
    else:
        backend = LiteLLMBackend("openai/gpt-4o", base_url=loopback.openai_base_url, api_key="k")
    m = MelleaSession(backend, ctx=ChatContext())
    url = f"{media_server}/cat.png"
    message = Message(
        "user",
        "Describe both.",
        images=[ImageBlock(PNG), ImageUrlBlock(url)],
        audio=[AudioBlock(WAV, "wav"), AudioUrlBlock(f"{media_server}/hello.wav", "wav")],
    )
    assert m.act(message).value == "Echo: Describe both."
    (sent,) = last_body(loopback, "/v1/chat/completions")["messages"]
    assert sent["content"] == [
        {"type": "text", "text": "Describe both."},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        {"type": "image_url", "image_url": {"url": url}},  # a URL is passed as is
        {"type": "input_audio", "input_audio": {"data": WAV, "format": "wav"}},
        {"type": "input_audio", "input_audio": {"data": WAV, "format": "wav"}},  # downloaded
    ]


def test_openai_wire_provider_fields_and_replayed_reasoning(loopback: LoopbackServer) -> None:
    m = MelleaSession(OpenAIBackend("m", base_url=loopback.openai_base_url), ctx=ChatContext())
    call = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    ctx = (
        ChatContext()
        .add(Message("assistant", "", tool_calls=call, thinking="I need f."))
        .add(Message("tool", "42", tool_call_id="c1", tool_name="f"))
        .add(Message("assistant", "It is 42.", thinking="Done."))
    )
    m.ctx = ctx
    m.act(
        Message("user", "Thanks", provider_fields={"openai": {"name": "ann"}, "ollama": {"x": 1}})
    )
    sent = last_body(loopback, "/v1/chat/completions")["messages"]
    assert sent[0] == {"role": "assistant", "content": None, "tool_calls": call,
                       "reasoning_content": "I need f."}  # fmt: skip
    assert sent[1] == {"role": "tool", "content": "42", "tool_call_id": "c1"}  # no `name`
    assert sent[2] == {"role": "assistant", "content": "It is 42."}  # plain turn: not replayed
    assert sent[3] == {"role": "user", "content": "Thanks", "name": "ann"}
    with pytest.raises(InvalidOptionError, match="targets"):
        m.act(Message("user", "x", provider_fields={"anthropic": {"y": 1}}))


# ----- GenerateLog ------------------------------------------------------------------------


def check_log(log: GenerateLog | None, backend: str, action: object) -> GenerateLog:
    assert log is not None and log.backend == backend and log.action is action
    assert log.date is not None and log.result is not None
    return log


@pytest.mark.parametrize("stream", [False, True])
def test_generate_log_on_the_http_backends(loopback: LoopbackServer, stream: bool) -> None:
    opts = {ModelOption.TEMPERATURE: 0.5, ModelOption.STREAM: stream, "top_k": 4}
    loopback.enqueue(Reply(text="Paris.", times=-1))
    cases = [
        (OllamaModelBackend("g", base_url=loopback.url), "ollama::g", "/api/chat"),
        (OpenAIBackend("o", base_url=loopback.openai_base_url), "openai::o", "/v1/chat/completions"),
        (LiteLLMBackend("openai/l", base_url=loopback.openai_base_url, api_key="k"), "litellm::openai/l", "/v1/chat/completions"),
    ]  # fmt: skip
    for backend, name, path in cases:
        m = MelleaSession(backend)
        action = Instruction("Capital of France?")
        reply = m.act(action, model_options=opts)
        log = check_log(reply.generate_log, name, action)
        assert log.prompt == last_body(loopback, path)["messages"]  # as sent
        assert log.model_options is not None and log.model_options["top_k"] == 4
        assert log.model_options[ModelOption.TEMPERATURE] == 0.5
        output = log.model_output
        text = (
            output["message"]["content"]
            if "message" in output
            else (output["choices"][0]["message"]["content"])
        )
        assert text == "Paris." == reply.value
        if stream and "choices" in output:  # the chunks were kept, and merged into one answer
            assert len(reply.raw.streamed_chunks or []) > 1


def test_generate_log_keeps_custom_options_as_in_the_docs(loopback: LoopbackServer) -> None:
    # how-to_unit-test-generative-code: "custom_param" in res.generate_log.model_options
    session = MelleaSession(OllamaModelBackend(model_id="granite4.1:3b", host=loopback.url))
    model_options = {
        ModelOption.TEMPERATURE: 0.5,
        ModelOption.MAX_NEW_TOKENS: 100,
        "custom_param": "should_pass_through",
    }
    res = session.instruct("Write a one-sentence summary.", model_options=model_options)
    assert "custom_param" in res.generate_log.model_options  # type: ignore[union-attr]
    assert last_body(loopback, "/api/chat")["options"]["custom_param"] == "should_pass_through"


def test_generate_log_on_dummy_and_raw_completions(loopback: LoopbackServer) -> None:
    m = MelleaSession(DummyBackend(["hi"]))
    action = Instruction("Say hi.")
    reply = m.act(action)
    log = check_log(reply.generate_log, "dummy::dummy", action)
    assert log.prompt == [{"role": "user", "content": "Say hi."}] and log.model_output == "hi"

    from mellea.core.base import CBlock
    from mellea.helpers.portal import run_sync
    from mellea.stdlib.context import SimpleContext

    backend = OpenAIBackend("o", base_url=loopback.openai_base_url)

    async def go() -> Any:
        (mot,) = await backend.generate_from_raw([CBlock("1, 2,")], SimpleContext())
        await mot.avalue()
        return mot

    mot = run_sync(go())
    raw_log = mot.generate_log
    assert raw_log.prompt == "1, 2," and raw_log.backend == "openai::o"
    assert raw_log.model_output["object"] == "text_completion"


def test_unknown_option_warning_names_the_option(
    loopback: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="mellea"):
        OllamaModelBackend("m", base_url=loopback.url, model_options={"custom_param": 1})
    assert "custom_param" in caplog.text


def test_a_tool_call_turns_reasoning_is_replayed_from_the_history(loopback: LoopbackServer) -> None:
    from mellea.core import ModelOutputThunk, ModelToolCall

    turn: ModelOutputThunk[Any] = ModelOutputThunk("")
    turn.thinking = "I should call f."
    turn.tool_calls = {"f": ModelToolCall("f", None, {"x": 1}, "c1")}
    plain: ModelOutputThunk[Any] = ModelOutputThunk("Done.")
    plain.thinking = "Easy."
    ctx = ChatContext().add(Message("user", "go")).add(turn).add(plain)
    m = MelleaSession(OpenAIBackend("m", base_url=loopback.openai_base_url), ctx=ctx)
    m.chat("and?")
    sent = last_body(loopback, "/v1/chat/completions")["messages"]
    assert sent[1]["reasoning_content"] == "I should call f." and sent[1]["content"] is None
    assert "reasoning_content" not in sent[2]
    m2 = MelleaSession(OllamaModelBackend("m", base_url=loopback.url), ctx=ctx)
    m2.chat("and?")
    sent = last_body(loopback, "/api/chat")["messages"]
    assert sent[1]["thinking"] == "I should call f." and "thinking" not in sent[2]


def test_describing_a_call_downloads_nothing() -> None:
    # The response cache keys on request_description: it must not fetch media (it may run
    # on the event loop), so a URL stays a URL there.
    from mellea.backends._chat import ChatCall
    from mellea.backends.model_options import resolve_options

    message = {
        "role": "user",
        "content": "see",
        "images": [ImageUrlBlock("http://127.0.0.1:9/unreachable.png")],
        "audio": [AudioUrlBlock("http://127.0.0.1:9/unreachable.wav", "wav")],
    }
    call = ChatCall(messages=[message], options=resolve_options())
    ollama = OllamaModelBackend("m", base_url="http://127.0.0.1:9")
    described = ollama.request_description(
        ChatCall(messages=[dict(message, audio=[])], options=call.options)
    )
    assert described["messages"][0]["images"] == ["http://127.0.0.1:9/unreachable.png"]
    openai = OpenAIBackend("m", base_url="http://127.0.0.1:9/v1")
    parts = openai.request_description(call)["messages"][0]["content"]
    assert parts[1]["image_url"]["url"] == "http://127.0.0.1:9/unreachable.png"
    assert parts[2]["input_audio"] == {"url": "http://127.0.0.1:9/unreachable.wav", "format": "wav"}
