"""The leaf data types of every prompt: `CBlock`, `Component`, `TemplateRepresentation`.

Also the tool protocol (`AbstractMelleaTool`) components and thunks refer to. The public
path of all of these is `mellea.core.base` (and `mellea.core`).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import InitVar, dataclass, field
from typing import TYPE_CHECKING, Any, Generic, ParamSpec

from typing_extensions import TypeVar

from .errors import ComponentParseError

if TYPE_CHECKING:
    from .media import AudioBlock, AudioUrlBlock, ImageBlock, ImageUrlBlock
    from .thunk import ModelOutputThunk

S = TypeVar("S", default=Any, covariant=True)
"""The type a component parses its model output into."""
C = TypeVar("C", default=str)
"""The parsed type of a generation's result, in backend signatures."""
P = ParamSpec("P")
"""A tool's parameters."""
R = TypeVar("R")
"""A tool's return type."""


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


class AbstractMelleaTool(abc.ABC, Generic[P, R]):
    """A tool the model may call: a `name`, `run(...)`, and its JSON description.

    `as_json_tool` is the OpenAI-style function description sent to the model.
    """

    name: str

    @abc.abstractmethod
    def run(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call the tool."""

    @property
    @abc.abstractmethod
    def as_json_tool(self) -> dict[str, Any]:
        """The tool as a JSON function description (`{"type": "function", ...}`)."""


TemplateArg = Any
"""A value of `TemplateRepresentation.args`: text, a block or component, a nested
representation, or a list/mapping of those."""


@dataclass
class TemplateRepresentation:
    """How a component describes itself to a formatter.

    Either `template` (an inline Jinja2 string) or `template_order` (template names to look
    up; `"*"` means the component's class name) says how `args` are rendered. The chat
    fields (`role`, `thinking`, `tool_calls`, `tool_call_id`, `tool_name`) let a component
    choose how it is sent as a chat message; `images` and `audio` travel with it.
    `provider_fields` are extra wire fields per provider (`"*"` for any), merged under
    mellea's own fields. `component=` is accepted for `obj=` (as Mellea's docs write it),
    and `tools` may be given as a list (keyed by each tool's name).
    """

    obj: Any = None
    args: dict[str, TemplateArg] = field(default_factory=dict)
    tools: Mapping[str, Any] | None = None
    """Tools the component offers, by name (`AbstractMelleaTool`s or plain callables)."""
    fields: list[Any] | None = None
    template: str | None = None
    template_order: list[str] | None = None
    images: list[ImageBlock | ImageUrlBlock] | None = None
    audio: list[AudioBlock | AudioUrlBlock] | None = None
    role: str | None = None
    thinking: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None
    tool_name: str | None = None
    provider_fields: dict[str, dict[str, Any]] | None = None
    component: InitVar[Any] = None

    def __post_init__(self, component: Any) -> None:
        if component is not None:
            if self.obj is not None and self.obj is not component:
                raise TypeError("give the represented object as obj= or component=, not both")
            self.obj = component
        if self.tools is not None and isinstance(self.tools, (list, tuple)):
            self.tools = {_tool_name(t): t for t in self.tools}


def _tool_name(tool: Any) -> str:
    name = getattr(tool, "name", None) or getattr(tool, "__name__", None)
    if not isinstance(name, str):
        raise TypeError(f"a tool needs a name (a .name or a function's __name__): {tool!r}")
    return name


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
        return computed.value  # type: ignore[return-value]  # no parser of its own: the text


__all__ = [
    "AbstractMelleaTool",
    "CBlock",
    "Component",
    "ComponentParseError",
    "TemplateRepresentation",
]
