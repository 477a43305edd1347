"""Images and audio that travel with a prompt: `ImageBlock`, `ImageUrlBlock`, `AudioBlock`,
`AudioUrlBlock`.

Inline media is base64 text (images as PNG); media by URL is fetched only when a backend
needs the bytes inline (`resolve_base64()`, cached per URL). PIL images are accepted
where the docs say so; Pillow is then needed (`pip install "mellea[images]"`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import logging
import os
import sys
from typing import TYPE_CHECKING, Any, TypeGuard

from .._runtime.download import DownloadCache
from ._blocks import CBlock, Component, TemplateRepresentation

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

logger = logging.getLogger("mellea")

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_IMAGES = DownloadCache(max_entries=128, max_bytes=25 * 1024 * 1024, timeout_s=10.0)
_AUDIO = DownloadCache(max_entries=32, max_bytes=50 * 1024 * 1024, timeout_s=30.0)
# MIME subtypes that name a format differently from the format token providers expect.
_AUDIO_SUBTYPE_ALIASES = {
    "x-wav": "wav", "wave": "wav", "mpeg": "mp3", "x-mpeg": "mp3", "x-mp3": "mp3",
    "x-flac": "flac",
}  # fmt: skip


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def _b64_payload(value: str) -> str:
    """The base64 part of `value` (a data URI's prefix dropped), padded to a multiple of 4."""
    if value.startswith("data:") and "base64," in value:
        value = value.split("base64,", 1)[1]
    value = value.strip()
    return value + "=" * (-len(value) % 4)


def _b64_decode(value: str) -> bytes | None:
    try:
        return base64.b64decode(_b64_payload(value), validate=True)
    except (binascii.Error, ValueError):
        return None


def _short(value: str, limit: int = 80) -> str:
    """`value` quoted for an error message, cut short (it may be a whole base64 payload)."""
    return repr(value) if len(value) <= limit else f"{value[:limit]!r}... ({len(value)} chars)"


def _pil() -> Any:
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError(
            'working with PIL images needs Pillow: pip install "mellea[images]"'
        ) from exc
    return Image


def _is_pil_image(value: object) -> TypeGuard[PILImage]:
    module = sys.modules.get("PIL.Image")  # a PIL image can only exist once PIL is loaded
    return module is not None and isinstance(value, module.Image)


class ImageBlock(CBlock):
    """An image as base64-encoded PNG (a `data:image/png;base64,` prefix is accepted)."""

    def __init__(self, value: str, meta: dict[str, Any] | None = None) -> None:
        if not isinstance(value, str) or not self.is_valid_base64_png(value):
            shown = _short(value) if isinstance(value, str) else type(value).__name__
            raise ValueError(f"ImageBlock needs a base64-encoded PNG, got {shown}")
        super().__init__(value, meta)

    @staticmethod
    def is_valid_base64_png(s: str) -> bool:
        """True if `s` is base64 (or a base64 data URI) of a PNG image."""
        data = _b64_decode(s)
        return data is not None and data.startswith(_PNG_SIGNATURE)

    @staticmethod
    def pil_to_base64(image: PILImage) -> str:
        """A PIL image as base64 PNG."""
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        return base64.b64encode(buffer.getvalue()).decode("ascii")

    @classmethod
    def from_pil_image(cls, image: PILImage, meta: dict[str, Any] | None = None) -> ImageBlock:
        """An `ImageBlock` holding `image` encoded as PNG."""
        return cls(cls.pil_to_base64(image), meta)

    @property
    def base64(self) -> str:
        """The PNG as plain base64 (no data URI prefix)."""
        return _b64_payload(self.value or "")

    def __repr__(self) -> str:
        return f"ImageBlock(<{len(self.value or '')} base64 chars>)"


def _png_base64(data: bytes, source: str) -> str:
    """`data` (any image format Pillow reads) as base64 PNG; PNG bytes pass through as is."""
    if data.startswith(_PNG_SIGNATURE):
        return base64.b64encode(data).decode("ascii")
    try:
        image = _pil().open(io.BytesIO(data))
        return ImageBlock.pil_to_base64(image)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{source} is not an image Pillow can read: {exc}") from exc


class ImageUrlBlock(CBlock):
    """An image referenced by an http(s) URL.

    Backends that accept image URLs (OpenAI-compatible) send the URL; the others need
    the image inline and call `resolve_base64()`, which downloads it once per URL.
    """

    def __init__(self, value: str, meta: dict[str, Any] | None = None) -> None:
        if not isinstance(value, str) or not _is_url(value):
            raise ValueError(f"ImageUrlBlock needs an http:// or https:// URL, got {value!r}")
        super().__init__(value, meta)

    def resolve_base64(self) -> str:
        """The image as base64 PNG, downloaded once per URL (blocking; ValueError on failure)."""
        url = self.value or ""
        return _png_base64(_IMAGES.get(url), url)

    async def aresolve_base64(self) -> str:
        """`resolve_base64()` without blocking the event loop."""
        url = self.value or ""
        cached = _IMAGES.cached(url)
        if cached is not None:
            return _png_base64(cached, url)
        return await asyncio.to_thread(self.resolve_base64)

    def __repr__(self) -> str:
        return f"ImageUrlBlock({self.value!r})"


class AudioBlock(CBlock):
    """Audio as base64 data with its `format` (`"wav"`, `"mp3"`, ...).

    `format` may be omitted when `value` is a data URI (`data:audio/wav;base64,...`).
    """

    def __init__(
        self, value: str, format: str | None = None, meta: dict[str, Any] | None = None
    ) -> None:
        if not isinstance(value, str) or not self.is_valid_base64_audio(value):
            shown = _short(value) if isinstance(value, str) else type(value).__name__
            raise ValueError(f"AudioBlock needs base64-encoded audio, got {shown}")
        if format is None and value.startswith("data:") and "base64," in value:
            subtype = value[5:].split(";", 1)[0].rsplit("/", 1)[-1].lower()
            format = _AUDIO_SUBTYPE_ALIASES.get(subtype, subtype)
        if not format or not format.strip():
            raise ValueError(
                "AudioBlock needs its format (e.g. format='wav') or a data URI "
                "such as data:audio/wav;base64,..."
            )
        super().__init__(value, meta)
        self.format = format

    @staticmethod
    def is_valid_base64_audio(s: str) -> bool:
        """True if `s` (or the payload of a data URI) is non-empty valid base64."""
        data = _b64_decode(s)
        return bool(data)

    @staticmethod
    def detect_format(data: bytes) -> str | None:
        """The audio format of raw bytes, from their magic numbers (None if unknown)."""
        if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
            return "wav"
        if data[:4] == b"fLaC":
            return "flac"
        if data[:4] == b"OggS":
            return "ogg"
        if data[:3] == b"ID3":
            return "mp3"
        # A bare MPEG audio frame: 11 sync bits, and a layer field that is not 00 (ADTS/AAC).
        if len(data) >= 2 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0 and data[1] & 0x06:
            return "mp3"
        return None

    @classmethod
    def from_bytes(
        cls, data: bytes, format: str | None = None, meta: dict[str, Any] | None = None
    ) -> AudioBlock:
        """Audio from raw bytes; the format is detected from them when not given."""
        format = format or cls.detect_format(data)
        if format is None:
            raise ValueError("could not tell the audio format from the data; pass format=")
        return cls(base64.b64encode(data).decode("ascii"), format, meta)

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        format: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> AudioBlock:
        """Audio read from a file; the format is detected from its content when not given."""
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as exc:
            raise ValueError(
                f"could not read audio file {_short(os.fspath(path))} "
                f"({type(exc).__name__}); for a URL use AudioBlock.from_url or AudioUrlBlock"
            ) from exc
        return cls.from_bytes(data, format, meta)

    @classmethod
    def from_url(
        cls, url: str, format: str | None = None, meta: dict[str, Any] | None = None
    ) -> AudioBlock:
        """Audio downloaded now from an http(s) URL (`AudioUrlBlock` defers the download)."""
        if not _is_url(url):
            raise ValueError(f"AudioBlock.from_url needs an http(s) URL, got {_short(url)}")
        data = _AUDIO.get(url)
        format = format or cls.detect_format(data)
        if format is None:
            _AUDIO.forget(url)  # a transient non-audio answer must not stay cached
            raise ValueError(f"could not tell the audio format of {url!r}; pass format=")
        return cls(base64.b64encode(data).decode("ascii"), format, meta)

    @property
    def base64(self) -> str:
        """The audio as plain base64 (no data URI prefix)."""
        return _b64_payload(self.value or "")

    def __repr__(self) -> str:
        return f"AudioBlock(<{len(self.value or '')} base64 chars>, format={self.format!r})"


class AudioUrlBlock(CBlock):
    """Audio referenced by an http(s) URL, with its declared `format`.

    Providers take audio inline, so backends call `resolve_base64()` (downloaded once per
    URL).
    """

    def __init__(self, value: str, format: str, meta: dict[str, Any] | None = None) -> None:
        if not isinstance(value, str) or not _is_url(value):
            raise ValueError(f"AudioUrlBlock needs an http:// or https:// URL, got {value!r}")
        if not format or not format.strip():
            raise ValueError("AudioUrlBlock needs its format, e.g. format='wav'")
        super().__init__(value, meta)
        self.format = format

    def resolve_base64(self) -> str:
        """The audio as base64, downloaded once per URL (blocking; ValueError on failure)."""
        return base64.b64encode(_AUDIO.get(self.value or "")).decode("ascii")

    async def aresolve_base64(self) -> str:
        """`resolve_base64()` without blocking the event loop."""
        cached = _AUDIO.cached(self.value or "")
        if cached is not None:
            return base64.b64encode(cached).decode("ascii")
        return await asyncio.to_thread(self.resolve_base64)

    def __repr__(self) -> str:
        return f"AudioUrlBlock({self.value!r}, format={self.format!r})"


def make_image_block(
    src: str | PILImage, *, convert_to_base64: bool = False, meta: dict[str, Any] | None = None
) -> ImageBlock | ImageUrlBlock:
    """The right block for an image source: a PIL image, an http(s) URL, or base64 PNG.

    A URL gives an `ImageUrlBlock`, or with `convert_to_base64=True` the downloaded image
    as an `ImageBlock`.
    """
    if _is_pil_image(src):
        return ImageBlock.from_pil_image(src, meta)
    if isinstance(src, ImageBlock | ImageUrlBlock):
        return src
    if isinstance(src, str):
        if _is_url(src):
            if convert_to_base64:
                return ImageBlock(ImageUrlBlock(src).resolve_base64(), meta)
            return ImageUrlBlock(src, meta)
        if ImageBlock.is_valid_base64_png(src):
            return ImageBlock(src, meta)
        raise ValueError(f"not an http(s) URL nor a base64 PNG: {_short(src)}")
    raise TypeError(f"an image is a PIL image, a URL or base64 PNG, not {type(src).__name__}")


def _attachments(c: Component[Any], field: str, kinds: tuple[type, ...]) -> list[Any] | None:
    """The non-empty `field` list of `c` (its attribute, else its TemplateRepresentation)."""
    if hasattr(c, field):
        items = getattr(c, field)
    else:
        try:
            rep = c.format_for_llm()
        except Exception as exc:  # a broken component shows its error where it is rendered
            logger.debug("could not read %s of %s: %r", field, type(c).__name__, exc)
            return None
        items = getattr(rep, field, None) if isinstance(rep, TemplateRepresentation) else None
    if not items:
        return None
    if not isinstance(items, list) or not all(isinstance(i, kinds) for i in items):
        names = " or ".join(k.__name__ for k in kinds)
        raise TypeError(f"{type(c).__name__}.{field} must be a list of {names}")
    return list(items)


def get_images_from_component(c: Component[Any]) -> list[ImageBlock | ImageUrlBlock] | None:
    """The images `c` carries (its `images`, else its representation's), or None."""
    return _attachments(c, "images", (ImageBlock, ImageUrlBlock))


def get_audio_from_component(c: Component[Any]) -> list[AudioBlock | AudioUrlBlock] | None:
    """The audio `c` carries (its `audio`, else its representation's), or None."""
    return _attachments(c, "audio", (AudioBlock, AudioUrlBlock))


__all__ = [
    "AudioBlock",
    "AudioUrlBlock",
    "ImageBlock",
    "ImageUrlBlock",
    "get_audio_from_component",
    "get_images_from_component",
    "make_image_block",
]
