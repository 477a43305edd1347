"""Docs pages on images: "Images and Vision", and the image examples of the instruct, Ollama
and OpenAI pages — each example unchanged, with a real image file in the working directory,
on the loopback server: images reach Ollama as base64 and OpenAI-compatible servers as
`image_url` content parts."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.docs._harness import chat_bodies, openai_bodies
from tests.docs.conftest import Runner
from tests.servers import LoopbackServer, Reply

PIL = pytest.importorskip("PIL.Image", reason="the images extra (Pillow) is not installed")


@pytest.fixture(autouse=True)
def photos(tmp_path: Path) -> None:
    PIL.new("RGB", (8, 8), "red").save(tmp_path / "photo.jpg")
    PIL.new("RGB", (8, 8), "blue").save(tmp_path / "screenshot.png")


def png_colour(b64: str) -> tuple[int, ...]:
    image = PIL.open(io.BytesIO(base64.b64decode(b64)))
    assert image.format == "PNG"
    return tuple(image.convert("RGB").getpixel((0, 0)))


def ollama_images(body: dict[str, Any]) -> list[str]:
    return [img for m in body["messages"] for img in m.get("images", [])]


def test_instruct_sends_a_pil_image_to_ollama(run: Runner, loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text="Yes, smiling."))
    assert run("how-to_use-images-and-vision/01").out == "Yes, smiling.\n"
    body = chat_bodies(loopback)[-1]
    assert body["model"] == "granite3.2-vision"
    (image,) = ollama_images(body)
    red, green, blue = png_colour(image)  # the photo is a JPEG: red within its rounding
    assert red >= 250 and green <= 5 and blue <= 5
    run("how-to_use-images-and-vision/02")
    body = chat_bodies(loopback)[-1]
    assert body["options"]["num_ctx"] == 4096 and len(ollama_images(body)) == 1


def test_an_image_stays_in_a_chat_context(run: Runner, loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text="Yes."), Reply(text="Two eyes."))
    assert run("how-to_use-images-and-vision/04").out == "Yes.\nTwo eyes.\n"
    second = chat_bodies(loopback)[-1]
    assert len(ollama_images(second)) == 1  # the first turn's image, sent with the history
    assert second["messages"][-1]["content"].startswith("How many eyes")


def test_image_blocks_on_the_instruct_and_ollama_pages(
    run: Runner, loopback: LoopbackServer
) -> None:
    loopback.enqueue(Reply(text="A red square."))
    assert run("concepts_instruct-validate-repair/08").out == "A red square.\n"
    assert len(ollama_images(chat_bodies(loopback)[-1])) == 1
    loopback.enqueue(Reply(text="Red."))
    assert run("integrations_ollama/07").out == "Red.\n"
    body = chat_bodies(loopback)[-1]
    assert body["model"] == "ibm/granite3.3-vision:2b" and len(ollama_images(body)) == 1


def test_openai_receives_image_url_parts(run: Runner, loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text="A blue screen, no text."))
    assert run("integrations_openai/07").out == "A blue screen, no text.\n"
    content = openai_bodies(loopback)[-1]["messages"][-1]["content"]
    text, image = content
    assert text["type"] == "text" and text["text"].startswith("Describe the content")
    url = image["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert png_colour(url.split(",", 1)[1]) == (0, 0, 255)


@pytest.fixture
def ollama_port_server() -> Iterator[LoopbackServer]:
    """A loopback server on Ollama's own port, for the example that hard-codes it."""
    try:
        srv = LoopbackServer(port=11434).start()
    except OSError:
        pytest.skip("port 11434 is taken (a real Ollama?)")
    try:
        yield srv
    finally:
        srv.stop()


def test_openai_backend_pointed_at_ollamas_port(
    run: Runner, ollama_port_server: LoopbackServer
) -> None:
    ollama_port_server.enqueue(Reply(text="One person, smiling."))
    assert run("how-to_use-images-and-vision/03").out == "One person, smiling.\n"
    (body,) = openai_bodies(ollama_port_server)
    assert body["model"] == "qwen2.5vl:7b" and body["messages"][-1]["content"][1]["type"] == (
        "image_url"
    )
