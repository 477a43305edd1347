"""Thin helpers over llama-cpp-python's low-level (ctypes) API.

Everything here runs on the engine's owner thread; ``llama_cpp`` is imported lazily so
that importing mellea does not load the native library.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from collections.abc import Sequence
from typing import Any, cast

# Held around every llama.cpp compute call of every Engine in the process. Two engines
# decoding at once would each run n_threads workers, oversubscribing the cores, and
# llama.cpp's spin-waiting workers then slow down ~100x; interleaving their steps is
# far cheaper.
COMPUTE_LOCK = threading.Lock()

# Used when a GGUF carries no chat template: ChatML is what most small instruct models use.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def import_llama_cpp(verbose: bool = False) -> Any:
    """Import llama_cpp; unless verbose, silence llama.cpp's native log chatter.

    llama-cpp-python routes native logs through the "llama-cpp-python" logger and prints
    them when that logger's level allows; at level NOTSET it prints everything.
    """
    import llama_cpp

    lib_logger = logging.getLogger("llama-cpp-python")
    if verbose:
        lib_logger.setLevel(logging.DEBUG)
    elif lib_logger.level == logging.NOTSET:
        lib_logger.setLevel(logging.ERROR)
    return llama_cpp


def tokenize(lc: Any, vocab: Any, text: str, *, add_special: bool = False) -> list[int]:
    """Tokenize a prompt.

    A chat-template-rendered prompt takes ``add_special=False``: the template itself writes
    BOS/role tokens where the model wants them (as transformers' ``apply_chat_template``
    and llama-cpp-python's chat handlers do); a raw completion prompt takes True (BOS
    where the model's metadata asks for it). ``parse_special=True`` so that
    "<|im_start|>" etc. become their special token ids.
    """
    data = text.encode("utf-8")
    cap = len(data) + 16
    buf = (lc.llama_token * cap)()
    n = lc.llama_tokenize(vocab, data, len(data), buf, cap, add_special, True)
    if n < 0:  # buffer too small: -n is the required size
        cap = -n
        buf = (lc.llama_token * cap)()
        n = lc.llama_tokenize(vocab, data, len(data), buf, cap, add_special, True)
        if n < 0:
            raise RuntimeError(f"tokenization failed ({n})")
    return list(buf[:n])


class PieceDecoder:
    """Token id -> raw bytes, with a reusable buffer (special tokens are not rendered)."""

    def __init__(self, lc: Any, vocab: Any) -> None:
        self._lc = lc
        self._vocab = vocab
        self._size = 64
        self._buf = ctypes.create_string_buffer(self._size)

    def __call__(self, token: int) -> bytes:
        n = self._lc.llama_token_to_piece(self._vocab, token, self._buf, self._size, 0, False)
        if n < 0:  # piece longer than the buffer: grow and retry
            self._size = max(-n, 2 * self._size)
            self._buf = ctypes.create_string_buffer(self._size)
            n = self._lc.llama_token_to_piece(self._vocab, token, self._buf, self._size, 0, False)
        return self._buf.raw[:n]


def token_text(lc: Any, vocab: Any, token: int) -> str:
    if token < 0:
        return ""
    raw = lc.llama_vocab_get_text(vocab, token)
    return raw.decode("utf-8", errors="replace") if raw else ""


class ChatFormatter:
    """Renders OpenAI-style messages with the GGUF's embedded Jinja2 chat template."""

    def __init__(self, lc: Any, model: Any, vocab: Any) -> None:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        raw = lc.llama_model_chat_template(model, None)
        self.template = raw.decode("utf-8") if raw else CHATML_TEMPLATE
        self.has_embedded_template = bool(raw)
        self._formatter = Jinja2ChatFormatter(
            template=self.template,
            eos_token=token_text(lc, vocab, lc.llama_vocab_eos(vocab)),
            bos_token=token_text(lc, vocab, lc.llama_vocab_bos(vocab)),
            add_generation_prompt=True,
        )

    def render(self, messages: Sequence[dict[str, Any]]) -> str:
        for m in messages:
            if not isinstance(m, dict) or "role" not in m:
                raise ValueError(
                    f"each message must be a dict with 'role' and 'content', got {m!r}"
                )
        return str(self._formatter(messages=cast(Any, list(messages))).prompt)
