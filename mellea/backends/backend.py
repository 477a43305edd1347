"""`FormatterBackend`: a `Backend` that renders components into chat messages itself.

Every engine here (embedded, Ollama, OpenAI-compatible, LiteLLM, the scripted
`DummyBackend`) is one: a model that takes chat messages, a formatter that turns
components and history into those messages, and default model options. Subclass it for
a custom engine and implement `generate_from_context` (and `generate_from_raw`); or
subclass `mellea.backends._chat.ChatBackend`, which only asks for the request itself.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any, ClassVar

from ..core.backend import Backend
from .model_ids import ModelIdentifier


class FormatterBackend(Backend, abc.ABC):
    """A backend with a model, a formatter and default model options.

    Args:
        model_id: The model name, or a `model_ids` constant.
        formatter: Renders components and history into chat messages (None: mellea's
            default rendering).
        model_options: Defaults for every call (per-call options win).
    """

    provider: ClassVar[str] = "custom"
    """The engine family, as in `GenerationMetadata.provider` and `ModelIdentifier.name_for`."""

    def __init__(
        self,
        model_id: str | ModelIdentifier,
        formatter: Any = None,
        *,
        model_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.model_identifier = model_id if isinstance(model_id, ModelIdentifier) else None
        """The `model_ids` constant the backend was created with, if any."""
        self.model_id = self._resolve_model_name(model_id)
        self.formatter = formatter
        self.model_options = dict(model_options or {})

    def _resolve_model_name(self, model_id: str | ModelIdentifier) -> str:
        """The model name this engine sends for `model_id`."""
        if isinstance(model_id, ModelIdentifier):
            name = model_id.name_for(self.provider)
            if name is None:
                raise ValueError(f"{model_id} has no model name for the {self.provider} backend")
            return name
        if not isinstance(model_id, str) or not model_id.strip():
            raise ValueError(
                f"model_id must be a non-empty str or a ModelIdentifier, got {model_id!r}"
            )
        return model_id

    @property
    def base_model_name(self) -> str:
        """The name of the model requests go to."""
        return self.model_id


__all__ = ["FormatterBackend"]
