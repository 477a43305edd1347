"""`SimpleComponent`: an instruction with named inputs (which may be unfinished thunks)."""

from __future__ import annotations

from typing import Any

from ...core.base import CBlock, Component


class SimpleComponent(Component[str]):
    """`SimpleComponent(instruction="What is x+y?", x=thunk_x, y=thunk_y)`.

    Inputs that are thunks are waited for by the backend before the prompt is rendered, so
    unfinished generations can be composed.
    """

    def __init__(self, instruction: str | None = None, **inputs: str | CBlock | Component[Any]):
        self.instruction = instruction
        self.inputs = {k: CBlock(v) if isinstance(v, str) else v for k, v in inputs.items()}

    def parts(self) -> list[Component[Any] | CBlock]:
        return list(self.inputs.values())

    def format_for_llm(self) -> str:
        lines = [self.instruction] if self.instruction else []
        for name, value in self.inputs.items():
            if isinstance(value, CBlock):
                text = value.value or ""
            else:
                formatted = value.format_for_llm()
                text = formatted if isinstance(formatted, str) else str(formatted.args)
            lines.append(f"{name}: {text}")
        return "\n".join(lines)
