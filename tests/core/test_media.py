"""Images and audio blocks: validation, PIL, files, and URLs fetched from a real local server."""

from __future__ import annotations

import base64
import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from mellea.core import (
    AudioBlock,
    AudioUrlBlock,
    Component,
    ImageBlock,
    ImageUrlBlock,
    TemplateRepresentation,
    get_audio_from_component,
    get_images_from_component,
    make_image_block,
)
from mellea.core.message import Message

WAV = b"RIFF" + (36).to_bytes(4, "little") + b"WAVEfmt " + b"\x00" * 24
MP3_FRAME = bytes([0xFF, 0xFB, 0x90, 0x64]) + b"\x00" * 8
ADTS_AAC = bytes([0xFF, 0xF1, 0x50, 0x80]) + b"\x00" * 8


def png_bytes(color: str = "red") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 3), color).save(buf, "PNG")
    return buf.getvalue()


def jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (5, 2), "blue").save(buf, "JPEG")
    return buf.getvalue()


class MediaServer:
    """A real HTTP server on 127.0.0.1 that counts requests per path."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.hits: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def media() -> Iterator[MediaServer]:
    srv = MediaServer(
        {"/a.png": png_bytes(), "/b.jpg": jpeg_bytes(), "/c.wav": WAV, "/text": b"not media"}
    )
    try:
        yield srv
    finally:
        srv.close()


def test_image_block_accepts_only_png_base64() -> None:
    raw = base64.b64encode(png_bytes()).decode()
    assert ImageBlock(raw).value == raw
    uri = "data:image/png;base64," + raw
    assert ImageBlock(uri).base64 == raw
    assert ImageBlock.is_valid_base64_png(raw.rstrip("="))  # padding is optional
    with pytest.raises(ValueError, match="PNG"):
        ImageBlock(base64.b64encode(jpeg_bytes()).decode())
    with pytest.raises(ValueError):
        ImageBlock("not base64 at all!")


def test_pil_images_become_png_blocks() -> None:
    block = ImageBlock.from_pil_image(Image.new("RGB", (2, 2), "green"))
    decoded = Image.open(io.BytesIO(base64.b64decode(block.base64)))
    assert decoded.format == "PNG" and decoded.size == (2, 2)
    assert isinstance(make_image_block(Image.new("L", (1, 1))), ImageBlock)


def test_make_image_block_dispatches_on_the_source(media: MediaServer) -> None:
    raw = base64.b64encode(png_bytes()).decode()
    assert isinstance(make_image_block(raw), ImageBlock)
    url_block = make_image_block(f"{media.url}/a.png")
    assert isinstance(url_block, ImageUrlBlock) and media.hits == {}  # nothing fetched yet
    fetched = make_image_block(f"{media.url}/b.jpg", convert_to_base64=True)
    assert isinstance(fetched, ImageBlock)  # the JPEG was re-encoded as PNG
    with pytest.raises(ValueError):
        make_image_block("just words")
    with pytest.raises(TypeError):
        make_image_block(42)  # type: ignore[arg-type]


async def test_image_urls_resolve_once_per_url(media: MediaServer) -> None:
    block = ImageUrlBlock(f"{media.url}/a.png")
    first = block.resolve_base64()
    assert base64.b64decode(first) == media.files["/a.png"]  # PNG passes through untouched
    again = await ImageUrlBlock(f"{media.url}/a.png").aresolve_base64()
    assert again == first and media.hits["/a.png"] == 1
    with pytest.raises(ValueError, match="could not download"):
        ImageUrlBlock(f"{media.url}/missing.png").resolve_base64()
    with pytest.raises(ValueError, match="Pillow can read"):
        ImageUrlBlock(f"{media.url}/text").resolve_base64()
    with pytest.raises(ValueError):
        ImageUrlBlock("ftp://example.com/x.png")


def test_audio_blocks(tmp_path: Path, media: MediaServer) -> None:
    b64 = base64.b64encode(WAV).decode()
    assert AudioBlock("data:audio/x-wav;base64," + b64).format == "wav"
    assert AudioBlock("data:audio/mpeg;base64," + b64).format == "mp3"
    assert AudioBlock(b64, "flac").format == "flac"
    with pytest.raises(ValueError, match="format"):
        AudioBlock(b64)
    with pytest.raises(ValueError):
        AudioBlock("%%%", "wav")
    assert AudioBlock.detect_format(WAV) == "wav"
    assert AudioBlock.detect_format(MP3_FRAME) == "mp3"
    assert AudioBlock.detect_format(ADTS_AAC) is None  # AAC is not mistaken for MP3
    assert AudioBlock.detect_format(b"ID3\x03rest") == "mp3"
    assert AudioBlock.from_bytes(WAV).format == "wav"
    path = tmp_path / "clip.bin"
    path.write_bytes(WAV)
    assert AudioBlock.from_file(path).base64 == b64
    with pytest.raises(ValueError, match="could not read"):
        AudioBlock.from_file(tmp_path / "absent.wav")
    assert AudioBlock.from_url(f"{media.url}/c.wav").format == "wav"
    with pytest.raises(ValueError, match="format"):
        AudioBlock.from_url(f"{media.url}/text")
    url = AudioUrlBlock(f"{media.url}/c.wav", "wav")
    assert base64.b64decode(url.resolve_base64()) == WAV
    with pytest.raises(ValueError):
        AudioUrlBlock(f"{media.url}/c.wav", "")


class Pictured(Component[str]):
    """Declares its images only on its representation."""

    def __init__(self, images: list[Any]) -> None:
        self._imgs = images

    def format_for_llm(self) -> TemplateRepresentation:
        return TemplateRepresentation(self, {"x": "y"}, images=self._imgs)


def test_attachments_of_components() -> None:
    img = ImageBlock(base64.b64encode(png_bytes()).decode())
    clip = AudioBlock(base64.b64encode(WAV).decode(), "wav")
    msg = Message("user", "look", images=[img], audio=[clip])
    assert get_images_from_component(msg) == [img]
    assert get_audio_from_component(msg) == [clip]
    assert get_images_from_component(Message("user", "none")) is None
    assert get_images_from_component(Pictured([img])) == [img]  # from the representation
    assert get_audio_from_component(Pictured([img])) is None
    with pytest.raises(TypeError, match="images"):
        get_images_from_component(Pictured(["not a block"]))
