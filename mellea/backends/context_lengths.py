"""`get_context_length`: a known model's rated context window, in tokens.

The one source is the `context_length` of the `model_ids` constants; strings are looked
up by the Hugging Face and Ollama names of those constants (the names servers are asked
for). This is the model's rated maximum, not what a running server allocates — Ollama
defaults to a far smaller `num_ctx` — so size windows from it with care.
"""

from __future__ import annotations

import functools

from . import model_ids
from .model_ids import ModelIdentifier


@functools.cache
def _by_name() -> dict[str, int]:
    table: dict[str, int] = {}
    for value in vars(model_ids).values():
        if not isinstance(value, ModelIdentifier) or value.context_length is None:
            continue
        for name in (value.hf_model_name, value.ollama_name, value.local_name):
            if name:
                table.setdefault(name, value.context_length)
    return table


def get_context_length(model_id: str | ModelIdentifier) -> int | None:
    """The context length of a known model, or None if it is not in the catalogue.

    A `ModelIdentifier` (or any object with an int `context_length`) with the length set
    answers directly; otherwise its Hugging Face, then Ollama name is looked up (a string
    is looked up as given). Anything else raises `TypeError`.
    """
    if isinstance(model_id, ModelIdentifier):
        if model_id.context_length is not None:
            return model_id.context_length
        names = [model_id.hf_model_name, model_id.ollama_name, model_id.local_name]
    elif isinstance(model_id, str):
        names = [model_id]
    elif isinstance(getattr(model_id, "context_length", None), int):  # identifier-like object
        return int(model_id.context_length)
    else:
        raise TypeError(f"model_id must be a str or ModelIdentifier, got {model_id!r}")
    table = _by_name()
    for name in names:
        if name and name in table:
            return table[name]
    return None


__all__ = ["get_context_length"]
