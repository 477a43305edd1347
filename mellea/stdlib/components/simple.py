"""`SimpleComponent`: named inputs (text, blocks, components, unfinished thunks) sent as JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ...core.base import CBlock, Component
from ...core.thunk import ModelOutputThunk


def _span_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, CBlock):  # blocks and model outputs alike
        return value.value or ""
    if isinstance(value, Component):
        from ...backends.formatter import component_text

        return component_text(value)
    raise TypeError(
        f"SimpleComponent values must be str, CBlock or Component, got {type(value).__name__}"
    )


class SimpleComponent(Component[str]):
    """`SimpleComponent(instruction="What is x+y?", x=thunk_x, y=thunk_y)`.

    The model is sent the inputs as one JSON object (`{"instruction": "What is x+y?",
    "x": "2", "y": "4"}`). Inputs that are thunks are waited for by the backend before the
    prompt is rendered, so unfinished generations can be composed.
    """

    def __init__(self, **kwargs: Any) -> None:
        spans: dict[str, CBlock | Component[Any]] = {}
        for name, value in kwargs.items():
            if isinstance(value, str):
                value = CBlock(value)
            elif not isinstance(value, CBlock | Component):
                raise TypeError(
                    f"SimpleComponent input {name!r} must be a str, CBlock or Component, "
                    f"got {type(value).__name__}"
                )
            spans[name] = value
        self._kwargs = spans

    @property
    def inputs(self) -> dict[str, CBlock | Component[Any]]:
        """The named inputs, as blocks and components."""
        return dict(self._kwargs)

    def parts(self) -> list[Component[Any] | CBlock]:
        return list(self._kwargs.values())

    @staticmethod
    def make_simple_string(kwargs: Mapping[str, Any]) -> str:
        """The inputs as tagged lines: `<|name|>text</|name|>`."""
        return "\n".join(f"<|{k}|>{_span_text(v)}</|{k}|>" for k, v in kwargs.items())

    @staticmethod
    def make_json_string(kwargs: Mapping[str, Any]) -> str:
        """The inputs as one JSON object of texts (blocks and thunks by value, components
        by the text they render to)."""
        return json.dumps({k: _span_text(v) for k, v in kwargs.items()})

    def format_for_llm(self) -> str:
        return self.make_json_string(self._kwargs)

    def _parse(self, computed: ModelOutputThunk[Any]) -> str:
        return computed.value or ""

    def __repr__(self) -> str:
        return f"SimpleComponent({', '.join(self._kwargs)})"
