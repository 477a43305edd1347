"""The leaf data types of every prompt: `CBlock`, `Component`, `TemplateRepresentation`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic

from typing_extensions import TypeVar

from .errors import ComponentParseError

if TYPE_CHECKING:
    from .thunk import ModelOutputThunk

S = TypeVar("S", default=Any, covariant=True)
"""The type a component parses its model output into."""


class CBlock:
    """A block of content (text) that is input to or output from a model.

    CBlock boundaries are tokenisation / KV-cache boundaries for engines that care.
    """

    def __init__(
        self, value: str | None, meta: dict[str, Any] | None = None, *, cache: bool = False
    ) -> None:
        if value is not None and not isinstance(value, str):
            raise TypeError(f"CBlock value must be a str or None, not {type(value).__name__}")
        self._underlying_value = value
        self._meta: dict[str, Any] = {} if meta is None else meta
        self.cache = cache

    @property
    def value(self) -> str | None:
        """The text of the block."""
        return self._underlying_value

    @value.setter
    def value(self, v: str) -> None:
        self._underlying_value = v

    def __str__(self) -> str:
        return self.value or ""

    def __repr__(self) -> str:
        return f"CBlock({self.value!r})"


@dataclass
class TemplateRepresentation:
    """How a component describes itself to a template-based formatter.

    Either `template` (an inline Jinja2 string) or `template_order` (template names to look
    up; `"*"` means the component's class name) says how `args` are rendered.
    """

    obj: Any
    args: dict[str, Any]
    tools: dict[str, Callable[..., Any]] | None = None
    fields: list[Any] | None = None
    template: str | None = None
    template_order: list[str] | None = None
    images: list[Any] | None = field(default=None)


class Component(Generic[S]):
    """A composite structure represented to a model; parses the model output into `S`.

    Subclasses implement `format_for_llm` (a string, or a `TemplateRepresentation`) and, to
    return something other than the raw text, `_parse`.
    """

    def parts(self) -> list[Component[Any] | CBlock]:
        """The sub-components and blocks this component is made of."""
        return []

    def format_for_llm(self) -> TemplateRepresentation | str:
        """The component as the model should see it."""
        raise NotImplementedError(f"{type(self).__name__} does not implement format_for_llm")

    def parse(self, computed: ModelOutputThunk[Any]) -> S:
        """Parse the model output; any failure becomes a `ComponentParseError`."""
        try:
            return self._parse(computed)
        except ComponentParseError:
            raise
        except Exception as exc:
            raise ComponentParseError(
                f"{type(self).__name__} could not parse the model output: {exc}",
                partial_output=computed.value or "",
            ) from exc

    def _parse(self, computed: ModelOutputThunk[Any]) -> S:
        return computed.value  # type: ignore[return-value]


__all__ = ["CBlock", "Component", "ComponentParseError", "TemplateRepresentation"]
